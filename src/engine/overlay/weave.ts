import type { Engine } from '../engine.js';
import { PccError } from '../../core/errors.js';
import { stepCall, stepScript, unsupportedOs, type SetupStep, type StepContext, type StepPlan } from '../setup/step.js';
import type { HostRecord } from '../state.js';
import { sshTarget } from '../ssh/pool.js';
import { overlayAddress, type OverlayMember } from './addressing.js';
import { assignOverlayIndexes, endpointOf, memberFor, recordMember, type OverlayDriver } from './members.js';
import type { PeerStatus } from './peer-status.js';

/** Weave's own port for peer connections. */
const WEAVE_PORT = 6783;

/** One line of `weave status connections`. */
export interface WeaveConnection {
  direction: 'outbound' | 'inbound';
  address: string;
  state: 'connecting' | 'failed' | 'retrying' | 'pending' | 'established';
  /** The remote peer's nickname, where weave names it (pending and established connections). */
  nickname: string | undefined;
  /** The failure reason, or the mode / transport / peer details. */
  info: string;
}

/** One peer of `weave status peers` with the connections it reports. */
export interface WeavePeer {
  name: string;
  nickname: string;
  connections: { direction: 'outbound' | 'inbound'; address: string; nickname: string; state: string }[];
}

const PEER = /([0-9a-f]{2}(?::[0-9a-f]{2}){5})\(([^)]*)\)/;

/** Parses `weave status connections` (the format Weave Net documents in its troubleshooting guide). */
export function parseWeaveConnections(text: string): WeaveConnection[] {
  return text.split('\n').flatMap((line) => {
    const match = /^\s*(->|<-)\s*(\S+)\s+(connecting|failed|retrying|pending|established)\b\s*(.*)$/.exec(line);
    if (!match) return [];
    const [, arrow, address = '', state, info = ''] = match;
    return [{
      direction: arrow === '->' ? 'outbound' : 'inbound',
      address,
      state: state as WeaveConnection['state'],
      nickname: PEER.exec(info)?.[2],
      info: info.trim(),
    }];
  });
}

/** Parses `weave status peers`: each peer, then indented lines of the connections it has. */
export function parseWeavePeers(text: string): WeavePeer[] {
  const peers: WeavePeer[] = [];
  for (const line of text.split('\n')) {
    const connection = /^\s+(->|<-)\s*(\S+)\s+[0-9a-f:]{17}\(([^)]*)\)\s+(\S+)/.exec(line);
    const peer = /^([0-9a-f]{2}(?::[0-9a-f]{2}){5})\(([^)]*)\)\s*$/.exec(line);
    if (peer) peers.push({ name: peer[1] ?? '', nickname: peer[2] ?? '', connections: [] });
    else if (connection && peers.length > 0) {
      peers[peers.length - 1]?.connections.push({
        direction: connection[1] === '->' ? 'outbound' : 'inbound',
        address: connection[2] ?? '',
        nickname: connection[3] ?? '',
        state: connection[4] ?? '',
      });
    }
  }
  return peers;
}

/**
 * Each member's state from the network's peer list and the reporting host's own connections:
 * up when some connection to it is established, stale while connections to it are being made or
 * retried, down when it has none or they failed.
 */
export function weavePeerStatus(members: OverlayMember[], reporter: string, peers: WeavePeer[], connections: WeaveConnection[], settings: StepContext['settings']): PeerStatus[] {
  return members.map((member) => {
    const { address, containerSubnet } = overlayAddress(settings.overlay, member.index);
    const toIt = peers.flatMap((peer) => (peer.nickname === member.name ? [] : peer.connections.filter((c) => c.nickname === member.name)));
    const local = connections.filter((c) => c.nickname === member.name || (member.endpoint && c.address.startsWith(`${member.endpoint}:`)));
    const listed = peers.some((peer) => peer.nickname === member.name);
    const states = [...toIt.map((c) => c.state), ...local.map((c) => c.state)];
    const state: PeerStatus['state'] =
      states.includes('established') || (member.name === reporter && listed) ? 'up' : states.some((s) => s === 'pending' || s === 'connecting' || s === 'retrying') ? 'stale' : 'down';
    const outbound = toIt.find((c) => c.direction === 'outbound') ?? local.find((c) => c.direction === 'outbound');
    return {
      host: member.name,
      overlayAddress: address,
      containerSubnet,
      endpoint: outbound?.address ?? (member.endpoint ? `${member.endpoint}:${WEAVE_PORT}` : undefined),
      handshakeAgeS: undefined,
      rxBytes: undefined,
      txBytes: undefined,
      state,
    };
  });
}

function targetsOf(self: HostRecord, members: OverlayMember[]): string {
  return members.filter((m) => m.name !== self.name && m.endpoint).map((m) => m.endpoint).sort().join(',');
}

function inputs(context: StepContext): Record<string, string> {
  const self = memberFor(context.host, context.members(), context.config);
  const password = context.settings.overlay.weavePassword;
  return {
    WEAVE_NICKNAME: context.host.name,
    ...(password ? { WEAVE_PASSWORD: password.reveal() } : {}),
    CONTAINER_RANGE: context.settings.overlay.containerRange,
    OVERLAY_ADDRESS_CIDR: overlayAddress(context.settings.overlay, self.index).addressCidr,
    WEAVE_TARGETS: targetsOf(context.host, context.members()),
  };
}

export const weaveStep: SetupStep = {
  id: 'overlay',
  script: 'overlay/weave',
  title: 'Overlay network (Weave Net)',
  inputs,
  prepare: assignOverlayIndexes,
  plan(facts, context): StepPlan {
    const unsupported = unsupportedOs(facts);
    if (unsupported) return unsupported;
    if (facts.weave !== 'yes') {
      return { kind: 'refuse', reason: "the weave driver needs the `weave` script on the host; install it from the Weave Net fork you run (pcc does not download it), or set OVERLAY_DRIVER=wireguard" };
    }
    if (!context.settings.overlay.weavePassword) {
      return { kind: 'refuse', reason: 'the weave driver needs WEAVE_PASSWORD (config/hosts/global.env) so the overlay is encrypted' };
    }
    const changes: string[] = [];
    const apply: Record<string, string> = {};
    const wanted = inputs(context);
    if (facts.router !== 'true') {
      apply.DO_LAUNCH = '1';
      changes.push(`weave launch (containers from ${wanted.CONTAINER_RANGE})`);
    }
    if (facts.exposed !== 'yes') {
      apply.DO_EXPOSE = '1';
      changes.push(`weave expose ${wanted.OVERLAY_ADDRESS_CIDR}`);
    }
    if ((facts.targets ?? '') !== wanted.WEAVE_TARGETS) changes.push(`connect to ${wanted.WEAVE_TARGETS || 'no peers'}`);
    return changes.length === 0 ? { kind: 'unchanged' } : { kind: 'change', changes, apply };
  },
  async settled(engine, host, facts) {
    if (!facts.peer_name) throw new PccError(`${host.name}: weave reported no peer name after setup`);
    const endpoint = endpointOf(host, facts);
    await recordMember(engine, weaveDriver, host.name, { peerId: facts.peer_name, ...(endpoint ? { endpoint } : {}) });
  },
};

async function runOn(engine: Engine, host: HostRecord, call: string) {
  return engine.ssh.exec(sshTarget(host), 'bash -s', { sudo: true, quiet: true, stdin: stepScript([weaveStep], [call]) });
}

export const weaveDriver: OverlayDriver = {
  id: 'weave',
  interface: 'weave',
  step: weaveStep,
  async updatePeers(engine, host, members) {
    const result = await runOn(engine, host, stepCall(weaveStep, 'peers', { WEAVE_TARGETS: targetsOf(host, members) }));
    if (result.code !== 0) throw new PccError(`updating the weave peers of ${host.name} failed: ${result.stderr.trim().split('\n').slice(-2).join(' / ')}`);
    return result.stdout.trim().split('\n').pop() === 'changed';
  },
  async status(engine, members, reachable) {
    // One router's view is the network's: `weave status peers` lists every peer's connections.
    for (const host of reachable) {
      const result = await runOn(engine, host, stepCall(weaveStep, 'status', {})).catch(() => undefined);
      if (!result || result.code !== 0) continue;
      const [, peers = '', connections = ''] = result.stdout.split(/^::peers\n|^::connections\n/m);
      return weavePeerStatus(members, host.name, parseWeavePeers(peers), parseWeaveConnections(connections), engine.config.hosts.compute);
    }
    return members.map((member) => ({ ...weavePeerStatus([member], '', [], [], engine.config.hosts.compute)[0] as PeerStatus, state: 'down' as const }));
  },
};
