import { PccError } from '../../core/errors.js';

/**
 * Overlay addresses. Every member host has a small index that never changes while it exists:
 * init is 1 (10.128.0.1, as in the original), compute hosts take the lowest free index from 2.
 * The index gives both the host's overlay address (subnet base + index) and its containers' /24
 * (container range base + index × 256).
 */

export const INIT_OVERLAY_INDEX = 1;

/** What the overlay knows of one member host. */
export interface OverlayMember {
  name: string;
  index: number;
  /** The driver's identity of the host (WireGuard public key, weave peer name); undefined until it joined. */
  peerId: string | undefined;
  /** The address other hosts reach it at (without port); undefined when unknown. */
  endpoint: string | undefined;
  /**
   * Where members of the same private network reach it instead (EC2: its VPC address, the only one
   * the security group admits members from); undefined where there is none.
   */
  privateEndpoint?: { network: string; address: string } | undefined;
}

export interface OverlayAddressing {
  /** Host overlay subnet, e.g. 10.128.0.0/16. */
  subnet: string;
  /** The range carved into one /24 per host, e.g. 10.128.128.0/17. */
  containerRange: string;
}

export interface OverlayAddress {
  /** The host's address on the overlay, e.g. 10.128.0.2. */
  address: string;
  /** The host's address with the overlay subnet's prefix, e.g. 10.128.0.2/16 (for `ip addr`). */
  addressCidr: string;
  /** Its containers' subnet, e.g. 10.128.130.0/24. */
  containerSubnet: string;
}

function toNumber(ip: string): number {
  return ip.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

function toIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

function parseCidr(cidr: string): { base: number; prefix: number } {
  const [ip = '', prefix = ''] = cidr.split('/');
  const bits = Number(prefix);
  const size = 2 ** (32 - bits);
  return { base: Math.floor(toNumber(ip) / size) * size, prefix: bits };
}

/** How many member hosts the configuration has room for (index 0 is never used). */
export function overlayCapacity(addressing: OverlayAddressing): number {
  const subnet = parseCidr(addressing.subnet);
  const range = parseCidr(addressing.containerRange);
  // The subnet's last address is its broadcast; each host needs a whole /24 of the range.
  return Math.min(2 ** (32 - subnet.prefix) - 2, 2 ** (24 - range.prefix) - 1);
}

export function overlayAddress(addressing: OverlayAddressing, index: number): OverlayAddress {
  if (!Number.isInteger(index) || index < 1 || index > overlayCapacity(addressing)) {
    throw new PccError(`overlay index ${index} is outside the configured subnet ${addressing.subnet} / container range ${addressing.containerRange}`);
  }
  const subnet = parseCidr(addressing.subnet);
  const range = parseCidr(addressing.containerRange);
  const address = toIp(subnet.base + index);
  return {
    address,
    addressCidr: `${address}/${subnet.prefix}`,
    containerSubnet: `${toIp(range.base + index * 256)}/24`,
  };
}

/**
 * The index for a new member: init always gets 1; others the lowest index not in use. Fails with
 * what to change when the overlay is full.
 */
export function nextOverlayIndex(addressing: OverlayAddressing, used: Iterable<number>, role: 'init' | 'compute'): number {
  if (role === 'init') return INIT_OVERLAY_INDEX;
  const taken = new Set(used);
  const capacity = overlayCapacity(addressing);
  for (let index = INIT_OVERLAY_INDEX + 1; index <= capacity; index++) if (!taken.has(index)) return index;
  throw new PccError(`the overlay has no free address: ${capacity} hosts fit ${addressing.subnet} with one /24 each from ${addressing.containerRange}`, {
    hint: 'Destroy hosts you no longer need, or widen OVERLAY_SUBNET / OVERLAY_CONTAINER_RANGE in config/hosts/global.env.',
  });
}
