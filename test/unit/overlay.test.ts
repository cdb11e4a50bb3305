import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { nextOverlayIndex, overlayAddress, overlayCapacity } from '../../src/engine/overlay/addressing.js';
import type { OverlayMember } from '../../src/engine/overlay/addressing.js';
import { parseWeaveConnections, parseWeavePeers, weavePeerStatus } from '../../src/engine/overlay/weave.js';
import { aggregatePeers, isPrivateAddress, parseWireguardDump, peerSections, wireguardStep } from '../../src/engine/overlay/wireguard.js';
import type { StepContext } from '../../src/engine/setup/step.js';
import type { HostRecord } from '../../src/engine/state.js';
import { makeProject } from '../helpers/project.js';

const config = loadConfig(makeProject(), {});
const settings = config.hosts.compute;
const addressing = settings.overlay;

/** A WireGuard public key (43 base64 characters and =) that shows whose it is. */
const wireguardKey = (name: string) => `key${name.replaceAll('-', '')}`.padEnd(43, 'A') + '=';
const member = (name: string, index: number, endpoint?: string, peerId = wireguardKey(name)): OverlayMember => ({ name, index, peerId, endpoint });
const init = member('init', 1, '172.17.0.2');
const laptopVm = member('vagrant1', 2, '172.17.0.3');
const cloud = member('i-0abc', 3, '203.0.113.7');

describe('overlay addressing', () => {
  it('gives init 10.128.0.1 and each host a /24 of the container range', () => {
    expect(overlayAddress(addressing, 1)).toEqual({ address: '10.128.0.1', addressCidr: '10.128.0.1/16', containerSubnet: '10.128.129.0/24' });
    expect(overlayAddress(addressing, 2)).toEqual({ address: '10.128.0.2', addressCidr: '10.128.0.2/16', containerSubnet: '10.128.130.0/24' });
    expect(overlayCapacity(addressing)).toBe(127);
  });

  it('hands out the lowest free index, keeps 1 for init, and says what to change when full', () => {
    expect(nextOverlayIndex(addressing, [1, 2, 4], 'compute')).toBe(3);
    expect(nextOverlayIndex(addressing, [2, 3], 'init')).toBe(1);
    const small = { subnet: '10.9.0.0/29', containerRange: '10.10.0.0/16' };
    expect(overlayCapacity(small)).toBe(6);
    expect(() => nextOverlayIndex(small, [1, 2, 3, 4, 5, 6], 'compute')).toThrow(/no free address: 6 hosts fit 10.9.0.0\/29/);
    expect(() => overlayAddress(addressing, 0)).toThrow(/outside the configured subnet/);
  });
});

describe('WireGuard peers', () => {
  it('tells private and public addresses apart', () => {
    for (const address of ['10.1.2.3', '172.16.0.1', '172.31.255.1', '192.168.1.1', '127.0.0.1', '100.64.0.1', '169.254.1.1']) expect(isPrivateAddress(address), address).toBe(true);
    for (const address of ['172.32.0.1', '203.0.113.7', '8.8.8.8', '100.128.0.1']) expect(isPrivateAddress(address), address).toBe(false);
  });

  it('a host behind NAT lists every endpoint and keeps its mappings open; a public host lists no endpoint for it', () => {
    const members = [init, laptopVm, cloud];
    const fromLaptop = peerSections(laptopVm, members, settings);
    expect(fromLaptop).toBe(
      [
        '# init', '[Peer]', 'PublicKey = keyinitAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', 'AllowedIPs = 10.128.0.1/32, 10.128.129.0/24', 'Endpoint = 172.17.0.2:51820', 'PersistentKeepalive = 25', '',
        '# i-0abc', '[Peer]', 'PublicKey = keyi0abcAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', 'AllowedIPs = 10.128.0.3/32, 10.128.131.0/24', 'Endpoint = 203.0.113.7:51820', 'PersistentKeepalive = 25', '',
      ].join('\n'),
    );
    const fromCloud = peerSections(cloud, members, settings);
    expect(fromCloud).not.toContain('Endpoint');
    expect(fromCloud).not.toContain('PersistentKeepalive');
    expect(fromCloud).toContain('AllowedIPs = 10.128.0.2/32, 10.128.130.0/24');
  });

  it('leaves out itself and members that have not joined yet', () => {
    const sections = peerSections(init, [init, laptopVm, { ...cloud, peerId: undefined }], settings);
    expect(sections.match(/\[Peer\]/g)).toHaveLength(1);
    expect(sections).toContain('# vagrant1');
  });

  it('parses `wg show dump` peer lines', () => {
    const dump = [
      'keyinitAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\t(none)\t172.17.0.2:51820\t10.128.0.1/32,10.128.129.0/24\t1700000000\t1024\t2048\t25',
      'keyi0abcAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\t(none)\t(none)\t10.128.0.3/32,10.128.131.0/24\t0\t0\t0\toff',
      '',
    ].join('\n');
    expect(parseWireguardDump(dump)).toEqual([
      { peerId: 'keyinitAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', endpoint: '172.17.0.2:51820', allowedIps: ['10.128.0.1/32', '10.128.129.0/24'], latestHandshake: 1_700_000_000, rxBytes: 1024, txBytes: 2048 },
      { peerId: 'keyi0abcAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', endpoint: undefined, allowedIps: ['10.128.0.3/32', '10.128.131.0/24'], latestHandshake: undefined, rxBytes: 0, txBytes: 0 },
    ]);
  });

  it("each member's status comes from the others' view: freshest handshake, summed bytes, up / stale / down", () => {
    const now = 1_700_000_500;
    const line = (peer: OverlayMember, handshake: number | undefined, rx: number, tx: number, endpoint?: string) => ({
      peerId: peer.peerId ?? '', endpoint, allowedIps: [], latestHandshake: handshake, rxBytes: rx, txBytes: tx,
    });
    const reports = [
      { host: 'init', now, interfaceUp: true, peers: [line(laptopVm, now - 10, 100, 200, '172.17.0.3:51820'), line(cloud, now - 400, 5, 6)] },
      { host: 'vagrant1', now, interfaceUp: true, peers: [line(init, now - 30, 300, 400), line(cloud, undefined, 0, 0)] },
    ];
    const status = aggregatePeers([init, laptopVm, cloud], reports, settings);
    expect(status).toEqual([
      { host: 'init', overlayAddress: '10.128.0.1', containerSubnet: '10.128.129.0/24', endpoint: '172.17.0.2:51820', handshakeAgeS: 30, rxBytes: 300, txBytes: 400, state: 'up' },
      { host: 'vagrant1', overlayAddress: '10.128.0.2', containerSubnet: '10.128.130.0/24', endpoint: '172.17.0.3:51820', handshakeAgeS: 10, rxBytes: 100, txBytes: 200, state: 'up' },
      { host: 'i-0abc', overlayAddress: '10.128.0.3', containerSubnet: '10.128.131.0/24', endpoint: '203.0.113.7:51820', handshakeAgeS: 400, rxBytes: 5, txBytes: 6, state: 'stale' },
    ]);
    expect(aggregatePeers([init, laptopVm], [], settings).map((peer) => peer.state)).toEqual(['down', 'down']);
    expect(aggregatePeers([init], [{ host: 'init', now, interfaceUp: true, peers: [] }], settings)[0]?.state).toBe('up');
  });
});

describe('the WireGuard setup step plans from facts', () => {
  const host: HostRecord = {
    name: 'vagrant1', provider: 'vagrant', role: 'compute', computeType: 'cpu', state: 'running', extras: {},
    overlay: { index: 2 }, createdAt: '', updatedAt: '',
  };
  const context: StepContext = { host, config, settings, members: () => [init, { ...laptopVm, peerId: undefined }] };
  const inputs = wireguardStep.inputs(context);
  const settled = {
    os: 'debian', tools: 'yes', wireguard_go: 'yes', kernel: 'no', public_key: 'keyvagrant1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', settings: 'ok', peers: 'ok', up_script: 'ok',
    unit: 'ok', unit_enabled: 'enabled', unit_active: 'active', live_address: '10.128.0.2/16', live_port: '51820', live_peers: 'keyinitAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    network: '10.128.130.0/24 pcc-br 1420', firewall: 'ok',
  };

  it('sends the host its address, container subnet and peers; never a private key', () => {
    expect(inputs).toMatchObject({ OVERLAY_IF: 'pcc0', OVERLAY_ADDRESS_CIDR: '10.128.0.2/16', CONTAINER_SUBNET: '10.128.130.0/24', CONTAINER_RANGE: '10.128.128.0/17', OVERLAY_PORT: '51820', OVERLAY_MTU: '1420' });
    expect(inputs.OVERLAY_PEERS).toContain('PublicKey = keyinitAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    expect(JSON.stringify(inputs)).not.toMatch(/PrivateKey/);
  });

  it('a fresh host: install, key, interface, peers, network', () => {
    const plan = wireguardStep.plan({ os: 'debian', tools: 'no', wireguard_go: 'no', kernel: 'no', public_key: 'absent', network: 'absent' }, context);
    expect(plan.kind).toBe('change');
    if (plan.kind !== 'change') return;
    expect(plan.changes).toEqual([
      'install wireguard-tools and wireguard-go (no WireGuard in this kernel)',
      'make a WireGuard key on the host',
      'bring up pcc0 as 10.128.0.2/16 on UDP 51820 (wireguard-go)',
      'start the overlay at boot',
      'set 1 peer(s)',
      'Docker network pcc on 10.128.130.0/24',
    ]);
    expect(plan.apply).toEqual({ DO_INSTALL: '1', DO_RESTART: '1', DO_NETWORK: '1' });
  });

  it('a host as it should be is unchanged; a changed peer list is applied live, without a restart', () => {
    expect(wireguardStep.plan(settled, context)).toEqual({ kind: 'unchanged' });
    const plan = wireguardStep.plan({ ...settled, peers: 'differs' }, context);
    expect(plan).toEqual({ kind: 'change', changes: ['set 1 peer(s)'], apply: {} });
    const script = wireguardStep.plan({ ...settled, up_script: 'differs' }, context);
    expect(script).toEqual({ kind: 'change', changes: ['update overlay-up, the script that configures the interface'], apply: {} });
  });

  it('refuses hosts that are not Debian or Ubuntu', () => {
    expect(wireguardStep.plan({ ...settled, os: 'unsupported:Fedora Linux 40' }, context)).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/unsupported OS Fedora/) });
  });
});

describe('weave status, in the format Weave Net documents', () => {
  const connections = [
    '<- 192.168.48.12:33866   established unencrypted fastdp 7e:21:4a:70:2f:45(vagrant2) mtu=1410',
    '<- 192.168.48.13:60773   pending     encrypted   fastdp 7e:ae:cd:d5:23:8d(vagrant3)',
    '-> 192.168.48.14:6783    retrying    dial tcp4 192.168.48.14:6783: no route to host',
    '-> 192.168.48.15:6783    failed      dial tcp4 192.168.48.15:6783: no route to host, retry: 2015-08-06 18:55:38.246910357 +0000 UTC',
    '-> 192.168.48.16:6783    connecting',
  ].join('\n');
  const peers = [
    'ce:31:e0:06:45:1a(vagrant1)',
    '   <- 192.168.48.12:39634   7e:21:4a:70:2f:45(vagrant2)         established',
    '   <- 192.168.48.13:49619   7e:ae:cd:d5:23:8d(vagrant3)         pending',
    '7e:21:4a:70:2f:45(vagrant2)',
    '   -> 192.168.48.11:6783    ce:31:e0:06:45:1a(vagrant1)         established',
    '7e:ae:cd:d5:23:8d(vagrant3)',
    '   -> 192.168.48.11:6783    ce:31:e0:06:45:1a(vagrant1)         pending',
  ].join('\n');

  it('parses established, pending, retrying, failed and connecting connections', () => {
    expect(parseWeaveConnections(connections).map((c) => [c.direction, c.address, c.state, c.nickname])).toEqual([
      ['inbound', '192.168.48.12:33866', 'established', 'vagrant2'],
      ['inbound', '192.168.48.13:60773', 'pending', 'vagrant3'],
      ['outbound', '192.168.48.14:6783', 'retrying', undefined],
      ['outbound', '192.168.48.15:6783', 'failed', undefined],
      ['outbound', '192.168.48.16:6783', 'connecting', undefined],
    ]);
    expect(parseWeaveConnections(connections)[3]?.info).toMatch(/no route to host, retry:/);
  });

  it('parses the peer list with each peer’s connections', () => {
    const parsed = parseWeavePeers(peers);
    expect(parsed.map((p) => [p.name, p.nickname, p.connections.length])).toEqual([
      ['ce:31:e0:06:45:1a', 'vagrant1', 2], ['7e:21:4a:70:2f:45', 'vagrant2', 1], ['7e:ae:cd:d5:23:8d', 'vagrant3', 1],
    ]);
    expect(parsed[0]?.connections[0]).toEqual({ direction: 'inbound', address: '192.168.48.12:39634', nickname: 'vagrant2', state: 'established' });
  });

  it('turns them into peer states: established up, pending or retrying stale, failed or absent down', () => {
    const members = [member('vagrant1', 2, '192.168.48.11'), member('vagrant2', 3, '192.168.48.12'), member('vagrant3', 4, '192.168.48.13'), member('vagrant4', 5, '192.168.48.15'), member('vagrant5', 6)];
    const status = weavePeerStatus(members, 'vagrant1', parseWeavePeers(peers), parseWeaveConnections(connections), settings);
    expect(status.map((peer) => [peer.host, peer.state])).toEqual([
      ['vagrant1', 'up'], ['vagrant2', 'up'], ['vagrant3', 'stale'], ['vagrant4', 'down'], ['vagrant5', 'down'],
    ]);
    expect(status[1]).toMatchObject({ overlayAddress: '10.128.0.3', containerSubnet: '10.128.131.0/24', handshakeAgeS: undefined, rxBytes: undefined });
  });
});
