import type { Config } from '../../core/config/load.js';
import type { Engine } from '../engine.js';
import { memberHosts, memberOverlay, syncPeers, type OverlayDriver } from './members.js';
import type { PeerStatus } from './peer-status.js';
import { weaveDriver } from './weave.js';
import { wireguardDriver } from './wireguard.js';

/**
 * The overlay network: every host (init included) is a member with a fixed index (its overlay
 * address and container /24), joined by its driver's setup step. When a member joins, leaves or
 * comes back, every other running member's peers are updated live by the driver — no tunnel of
 * theirs is restarted.
 */

export function overlayDriver(config: Config): OverlayDriver {
  return config.hosts.compute.overlay.driver === 'weave' ? weaveDriver : wireguardDriver;
}

/**
 * Updates every running member's peers to the current member list. A member that cannot be reached
 * is reported and skipped: it gets its peers at its next setup or resume.
 */
export function syncOverlay(engine: Engine): Promise<void> {
  return syncPeers(engine, overlayDriver(engine.config));
}

/** Every member's peer status, also emitted as a `peers` event for the terminal UI. */
export async function overlayPeers(engine: Engine): Promise<PeerStatus[]> {
  const hosts = memberHosts(engine);
  const members = hosts.map(memberOverlay).filter((member) => member.peerId);
  const reachable = hosts.filter((host) => host.state === 'running' && host.ssh && host.overlay?.peerId);
  const peers = members.length === 0 ? [] : await overlayDriver(engine.config).status(engine, members, reachable);
  engine.events.emit({ type: 'peers', peers });
  return peers;
}
