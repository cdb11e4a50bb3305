import { isIPv4 } from 'node:net';
import type { HostSettings } from '../../core/config/load.js';
import type { Engine } from '../engine.js';
import { PccError } from '../../core/errors.js';
import { parseFacts, stepCall, stepScript, unsupportedOs, type SetupStep, type StepContext, type StepPlan } from '../setup/step.js';
import { HOST_FIELDS, type HostRecord } from '../state.js';
import { sshTarget } from '../ssh/pool.js';
import { overlayAddress, type OverlayMember } from './addressing.js';
import { assignOverlayIndexes, endpointOf, memberFor, memberOverlay, recordMember, type OverlayDriver } from './members.js';
import type { PeerStatus } from './peer-status.js';

/** The overlay interface, the Docker network of each host's containers and its bridge. */
export const OVERLAY_INTERFACE = 'pcc0';
export const OVERLAY_NETWORK = 'pcc';
export const OVERLAY_BRIDGE = 'pcc-br';

/** Keepalive from hosts behind NAT, so public peers can reach them through the NAT mapping. */
const KEEPALIVE_S = 25;
/** WireGuard re-handshakes every 2 minutes on a live tunnel; older than this, a peer is stale. */
export const STALE_AFTER_S = 180;

/** Addresses a peer on another network cannot dial: private, loopback, link-local, shared (CGNAT). */
export function isPrivateAddress(address: string): boolean {
  if (!isIPv4(address)) return address === 'localhost' || address === '::1' || /^f[cd]|^fe80/i.test(address);
  const [a = 0, b = 0] = address.split('.').map(Number);
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b < 128);
}

/**
 * The [Peer] sections one member gets. A peer's endpoint is listed when it is public, or when both
 * sit on private networks (local machines reach each other); a public host lists no endpoint for a
 * host behind NAT — that host dials out and keeps the mapping open with a keepalive.
 */
export function peerSections(self: OverlayMember, members: OverlayMember[], settings: HostSettings): string {
  const selfPrivate = self.endpoint === undefined || isPrivateAddress(self.endpoint);
  return members
    .filter((peer) => peer.name !== self.name && peer.peerId)
    .sort((a, b) => a.index - b.index)
    .map((peer) => {
      checkPeer(peer);
      const { address, containerSubnet } = overlayAddress(settings.overlay, peer.index);
      // On one private network (EC2 hosts in the project's VPC) peers meet there: EC2 security groups
      // admit members by their VPC addresses, never by their public ones.
      const sameNetwork = self.privateEndpoint !== undefined && self.privateEndpoint.network === peer.privateEndpoint?.network;
      const endpoint = sameNetwork ? peer.privateEndpoint?.address : peer.endpoint;
      const listEndpoint = endpoint !== undefined && (sameNetwork || !isPrivateAddress(endpoint) || selfPrivate);
      return [
        `# ${peer.name}`,
        '[Peer]',
        `PublicKey = ${peer.peerId}`,
        `AllowedIPs = ${address}/32, ${containerSubnet}`,
        ...(listEndpoint ? [`Endpoint = ${endpoint}:${settings.overlay.port}`] : []),
        ...(listEndpoint && selfPrivate ? [`PersistentKeepalive = ${KEEPALIVE_S}`] : []),
        '',
      ].join('\n');
    })
    .join('\n');
}

/** A WireGuard public key: 32 bytes in base64. */
const WIREGUARD_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/** Refuses a peer whose key or endpoint could add lines or options to another host's configuration. */
function checkPeer(peer: OverlayMember): void {
  if (!WIREGUARD_KEY.test(peer.peerId ?? '')) {
    throw new PccError(`overlay peer ${peer.name}: public key ${JSON.stringify(peer.peerId)} is not a WireGuard key`, { hint: `Set ${peer.name} up again: pcc setup ${peer.name}` });
  }
  if ([peer.endpoint, peer.privateEndpoint?.address].some((address) => address !== undefined && !HOST_FIELDS.address.safeParse(address).success)) {
    throw new PccError(`overlay peer ${peer.name}: endpoint ${JSON.stringify(peer.endpoint)} is not a host name or an IP address`, { hint: `Set ${peer.name} up again: pcc setup ${peer.name}` });
  }
}

function stepInputs(context: StepContext): Record<string, string> {
  const { overlay } = context.settings;
  const members = context.members();
  const self = memberFor(context.host, members, context.config);
  const { addressCidr, containerSubnet } = overlayAddress(overlay, self.index);
  return {
    OVERLAY_IF: OVERLAY_INTERFACE,
    OVERLAY_ADDRESS_CIDR: addressCidr,
    OVERLAY_SUBNET: overlay.subnet,
    CONTAINER_SUBNET: containerSubnet,
    CONTAINER_RANGE: overlay.containerRange,
    OVERLAY_PORT: String(overlay.port),
    OVERLAY_MTU: String(overlay.mtu),
    OVERLAY_BRIDGE,
    OVERLAY_NETWORK,
    OVERLAY_PEERS: peerSections(self, members, context.settings),
  };
}

/** The peers' public keys a member's configuration lists, sorted as `wg show peers | sort` prints them. */
function expectedPeerKeys(peers: string): string {
  return [...peers.matchAll(/^PublicKey = (.+)$/gm)].map((match) => match[1]).sort().join(',');
}

/** Joins a host to the WireGuard mesh: key made on the host, interface, peers, its containers' network. */
export const wireguardStep: SetupStep = {
  id: 'overlay',
  script: 'overlay/wireguard',
  title: 'Overlay network (WireGuard)',
  inputs: stepInputs,
  prepare: assignOverlayIndexes,
  removal: { inputs: () => ({ OVERLAY_IF: OVERLAY_INTERFACE, OVERLAY_NETWORK, OVERLAY_BRIDGE }) },
  plan(facts, context): StepPlan {
    const unsupported = unsupportedOs(facts);
    if (unsupported) return unsupported;
    const inputs = stepInputs(context);
    const changes: string[] = [];
    const apply: Record<string, string> = {};
    if (facts.tools !== 'yes' || (facts.kernel !== 'yes' && facts.wireguard_go !== 'yes')) {
      apply.DO_INSTALL = '1';
      changes.push(`install wireguard-tools${facts.kernel === 'yes' ? '' : ' and wireguard-go (no WireGuard in this kernel)'}`);
    }
    if (facts.public_key === 'absent') changes.push('make a WireGuard key on the host');
    // A new unit or new settings need the interface made again; a new overlay-up script only runs.
    if (facts.settings !== 'ok' || facts.unit !== 'ok' || facts.unit_active !== 'active') {
      apply.DO_RESTART = '1';
      changes.push(`bring up ${OVERLAY_INTERFACE} as ${inputs.OVERLAY_ADDRESS_CIDR} on UDP ${inputs.OVERLAY_PORT} (${facts.kernel === 'yes' ? 'kernel WireGuard' : 'wireguard-go'})`);
    } else if (facts.live_address !== inputs.OVERLAY_ADDRESS_CIDR || facts.live_port !== inputs.OVERLAY_PORT) {
      apply.DO_RESTART = '1';
      changes.push(`repair ${OVERLAY_INTERFACE} (address or port differ)`);
    }
    if (facts.up_script !== 'ok' && !apply.DO_RESTART) changes.push('update overlay-up, the script that configures the interface');
    if (facts.unit_enabled !== 'enabled') changes.push('start the overlay at boot');
    const peerCount = (inputs.OVERLAY_PEERS?.match(/^\[Peer\]$/gm) ?? []).length;
    if (facts.peers !== 'ok' || facts.live_peers !== expectedPeerKeys(inputs.OVERLAY_PEERS ?? '')) {
      changes.push(`set ${peerCount} peer(s)`);
    }
    if (facts.network !== `${inputs.CONTAINER_SUBNET} ${OVERLAY_BRIDGE} ${inputs.OVERLAY_MTU}`) {
      apply.DO_NETWORK = '1';
      changes.push(`Docker network ${OVERLAY_NETWORK} on ${inputs.CONTAINER_SUBNET}`);
    }
    if (facts.firewall !== 'ok' && !apply.DO_NETWORK) changes.push('restore the firewall rules of the overlay (no NAT between containers, forwarding to them)');
    return changes.length === 0 ? { kind: 'unchanged' } : { kind: 'change', changes, apply };
  },
  async settled(engine, host, facts) {
    if (!facts.public_key || facts.public_key === 'absent') throw new PccError(`${host.name} reported no WireGuard public key after setup`);
    const endpoint = endpointOf(host, facts);
    await recordMember(engine, wireguardDriver, host.name, { peerId: facts.public_key, ...(endpoint ? { endpoint } : {}) });
  },
};

/** One line of `wg show <if> dump` for a peer. */
export interface WireguardPeerLine {
  peerId: string;
  endpoint: string | undefined;
  allowedIps: string[];
  /** Unix seconds; undefined: never. */
  latestHandshake: number | undefined;
  rxBytes: number;
  txBytes: number;
}

/** Parses the peer lines of `wg show <if> dump` (tab-separated; the interface line must not be passed). */
export function parseWireguardDump(text: string): WireguardPeerLine[] {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const [peerId = '', , endpoint = '(none)', allowedIps = '', handshake = '0', rx = '0', tx = '0'] = line.split('\t');
      return {
        peerId,
        endpoint: endpoint === '(none)' ? undefined : endpoint,
        allowedIps: allowedIps === '(none)' ? [] : allowedIps.split(','),
        latestHandshake: Number(handshake) > 0 ? Number(handshake) : undefined,
        rxBytes: Number(rx),
        txBytes: Number(tx),
      };
    });
}

/** What one member reported of its peers: its clock and its dump, or why it could not. */
export interface MemberReport {
  host: string;
  now: number;
  interfaceUp: boolean;
  peers: WireguardPeerLine[];
}

/**
 * The mesh's view of each member: its freshest handshake as seen by any other member, the bytes
 * the others received from it (rx) and sent to it (tx), and its endpoint as the others see it.
 */
export function aggregatePeers(members: OverlayMember[], reports: MemberReport[], settings: HostSettings): PeerStatus[] {
  return members
    .slice()
    .sort((a, b) => a.index - b.index)
    .map((member) => {
      const { address, containerSubnet } = overlayAddress(settings.overlay, member.index);
      const seen = reports
        .filter((report) => report.host !== member.name)
        .flatMap((report) => report.peers.filter((peer) => peer.peerId === member.peerId).map((peer) => ({ report, peer })));
      const ages = seen.flatMap(({ report, peer }) => (peer.latestHandshake === undefined ? [] : [Math.max(0, report.now - peer.latestHandshake)]));
      const handshakeAgeS = ages.length > 0 ? Math.min(...ages) : undefined;
      const own = reports.find((report) => report.host === member.name);
      const alone = members.length === 1;
      const state: PeerStatus['state'] =
        alone ? (own?.interfaceUp ? 'up' : 'down') : handshakeAgeS === undefined ? 'down' : handshakeAgeS > STALE_AFTER_S ? 'stale' : 'up';
      const endpoint = seen.map(({ peer }) => peer.endpoint).find(Boolean) ?? (member.endpoint ? `${member.endpoint}:${settings.overlay.port}` : undefined);
      return {
        host: member.name,
        overlayAddress: address,
        containerSubnet,
        endpoint,
        handshakeAgeS,
        rxBytes: seen.reduce((sum, { peer }) => sum + peer.rxBytes, 0),
        txBytes: seen.reduce((sum, { peer }) => sum + peer.txBytes, 0),
        state,
      };
    });
}

async function runOn(engine: Engine, host: HostRecord, call: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return engine.ssh.exec(sshTarget(host), 'bash -s', { sudo: true, quiet: true, stdin: stepScript([wireguardStep], [call]) });
}

export const wireguardDriver: OverlayDriver = {
  id: 'wireguard',
  interface: OVERLAY_INTERFACE,
  step: wireguardStep,
  async updatePeers(engine, host, members) {
    const settings = engine.config.hosts[host.role];
    const peers = peerSections(memberOverlay(host), members, settings);
    const result = await runOn(engine, host, stepCall(wireguardStep, 'peers', { OVERLAY_IF: OVERLAY_INTERFACE, OVERLAY_PEERS: peers }));
    if (result.code !== 0) throw new PccError(`updating the overlay peers of ${host.name} failed: ${result.stderr.trim().split('\n').slice(-2).join(' / ')}`);
    return result.stdout.trim() === 'changed';
  },
  async status(engine, members, hosts) {
    const reports = await Promise.all(
      hosts.map(async (host): Promise<MemberReport | undefined> => {
        try {
          const result = await runOn(engine, host, stepCall(wireguardStep, 'status', { OVERLAY_IF: OVERLAY_INTERFACE }));
          if (result.code !== 0) return undefined;
          const [head = '', dump = ''] = result.stdout.split('::dump\n');
          const facts = parseFacts(head);
          return { host: host.name, now: Number(facts.now), interfaceUp: facts.interface === 'up', peers: parseWireguardDump(dump) };
        } catch {
          return undefined;
        }
      }),
    );
    return aggregatePeers(members, reports.filter((report): report is MemberReport => report !== undefined), engine.config.hosts.compute);
  },
};
