import type { Config } from '../../core/config/load.js';
import { PccError } from '../../core/errors.js';
import type { Engine } from '../engine.js';
import type { Facts, SetupStep } from '../setup/step.js';
import type { HostRecord } from '../state.js';
import { nextOverlayIndex, type OverlayMember } from './addressing.js';
import type { PeerStatus } from './peer-status.js';

/**
 * The overlay's members as state holds them, and what every driver shares: recording a member that
 * joined and bringing the others' peers up to date.
 */

export interface OverlayDriver {
  id: Config['hosts']['compute']['overlay']['driver'];
  /** The network interface that carries the overlay on a host (Swarm's firewall admits it alone). */
  interface: string;
  /** The setup step that joins one host (idempotent); its `settled` hook records the member. */
  step: SetupStep;
  /** Brings one running member's peers in line with `members`, live; true when something changed. */
  updatePeers(engine: Engine, host: HostRecord, members: OverlayMember[]): Promise<boolean>;
  /** Peer status of every member, read from the reachable ones. */
  status(engine: Engine, members: OverlayMember[], reachable: HostRecord[]): Promise<PeerStatus[]>;
}


/**
 * Where peers reach a host: the address pcc reaches it at over SSH, unless that is a forwarded
 * loopback port (VirtualBox NAT); then the host's own address on its private network.
 */
export function endpointOf(host: HostRecord, facts: Facts): string | undefined {
  if (host.ssh && !host.ssh.host.startsWith('127.') && host.ssh.host !== 'localhost') return host.ssh.host;
  return (facts.underlay ?? '').split(',').find((address) => address && address !== '10.0.2.15');
}

export function memberOverlay(host: HostRecord): OverlayMember {
  if (!host.overlay) throw new PccError(`${host.name} has no overlay address yet`, { hint: `Set it up: pcc setup ${host.name}` });
  return {
    name: host.name,
    index: host.overlay.index,
    peerId: host.overlay.peerId,
    endpoint: host.overlay.endpoint,
    // A project's EC2 hosts share one region and its default VPC.
    ...(host.provider === 'ec2' && host.privateAddress ? { privateEndpoint: { network: 'ec2', address: host.privateAddress } } : {}),
  };
}

/**
 * The host as an overlay member. In a dry run a host may have no index yet: it is shown with the
 * one it would get, and nothing is recorded.
 */
export function memberFor(host: HostRecord, members: OverlayMember[], config: Config): OverlayMember {
  if (host.overlay) return memberOverlay(host);
  const index = nextOverlayIndex(config.hosts[host.role].overlay, members.map((member) => member.index), host.role);
  return { name: host.name, index, peerId: undefined, endpoint: undefined };
}

export function memberHosts(engine: Engine): HostRecord[] {
  return Object.values(engine.state.read().hosts).filter((host) => host.overlay && host.state !== 'gone');
}

export function overlayMembers(engine: Engine): OverlayMember[] {
  return memberHosts(engine).map(memberOverlay);
}

/** Gives each of these hosts an overlay index if it has none (init: 1; others: lowest free). */
export async function assignOverlayIndexes(engine: Engine, hosts: HostRecord[]): Promise<void> {
  await engine.state.update((state) => {
    for (const { name } of hosts) {
      const record = state.hosts[name];
      if (!record || record.overlay) continue;
      const used = Object.values(state.hosts).flatMap((host) => (host.overlay ? [host.overlay.index] : []));
      const addressing = engine.config.hosts[record.role].overlay;
      const index = nextOverlayIndex(addressing, used, record.role);
      record.overlay = { index };
    }
  });
}

/** Records what a member's setup found (its public key, its endpoint), then updates the others. */
export async function recordMember(engine: Engine, driver: OverlayDriver, name: string, found: { peerId: string; endpoint?: string }): Promise<void> {
  const changed = await engine.state.update((state) => {
    const record = state.hosts[name];
    if (!record?.overlay) throw new PccError(`${name} left state while joining the overlay`);
    const before = JSON.stringify(record.overlay);
    record.overlay = { index: record.overlay.index, peerId: found.peerId, ...(found.endpoint ? { endpoint: found.endpoint } : {}) };
    return before !== JSON.stringify(record.overlay);
  });
  // Every member, the new one too: its own peers were read before the others that joined with it.
  if (changed) await syncPeers(engine, driver);
}

const syncing = new WeakMap<Engine, Promise<void>>();

/**
 * Updates every running member's peers to the current member list (one at a time per engine, so
 * concurrent joins never race). A member that cannot be reached is reported and skipped: it gets
 * its peers at its next setup or resume.
 */
export async function syncPeers(engine: Engine, driver: OverlayDriver): Promise<void> {
  const previous = syncing.get(engine) ?? Promise.resolve();
  const run = previous.then(async () => {
    const hosts = memberHosts(engine);
    const members = hosts.map(memberOverlay);
    const targets = hosts.filter((host) => host.state === 'running' && host.ssh && host.overlay?.peerId);
    await Promise.all(
      targets.map(async (host) => {
        try {
          if (await driver.updatePeers(engine, host, members)) {
            engine.logs.append(host.name, 'overlay: peers updated');
            engine.events.emit({ type: 'log', level: 'info', message: 'overlay peers updated', host: host.name });
          }
        } catch (error) {
          engine.events.emit({ type: 'log', level: 'warn', message: `overlay peers not updated: ${(error as Error).message}`, host: host.name });
        }
      }),
    );
  });
  syncing.set(engine, run.catch(() => undefined));
  return run;
}
