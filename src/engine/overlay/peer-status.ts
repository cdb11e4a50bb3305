/** One overlay peer as `pcc peers` and the peers panel show it. */
export interface PeerStatus {
  /** The pcc host this peer is. */
  host: string;
  /** The host's address on the overlay, e.g. 10.128.0.1. */
  overlayAddress: string;
  /** The /24 its containers get addresses from. */
  containerSubnet: string;
  /** Where the other hosts reach it (ip:port); undefined for a host behind NAT that dials out itself. */
  endpoint: string | undefined;
  /** Seconds since the latest handshake as seen from the host that reported it; undefined: never. */
  handshakeAgeS: number | undefined;
  /** Bytes the other hosts received from it and sent to it; undefined where the driver does not count. */
  rxBytes: number | undefined;
  txBytes: number | undefined;
  /** up: handshake within 3 minutes; stale: an older one; down: none, or the host is unreachable. */
  state: PeerState;
}

export type PeerState = 'up' | 'stale' | 'down';
