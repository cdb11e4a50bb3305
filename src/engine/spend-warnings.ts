import type { Config } from '../core/config/load.js';
import { usd } from './cost.js';
import type { HostRecord } from './state.js';

/** What the warnings look at of a host: from a state record or a UI row alike. */
export interface SpendSubject {
  name: string;
  role: HostRecord['role'];
  state: HostRecord['state'];
  /** When it was saved as an image, if it is held only by one. */
  savedAt: string | undefined;
  storagePerMonth: number | undefined;
}

/** Machines that bill while nobody uses them: compute hosts running with idle stop off, and images saved long ago. */
export interface SpendWarnings {
  idleStopOff: string[];
  oldImages: { name: string; days: number; perMonth: number | undefined }[];
}

const DAY_MS = 24 * 3600_000;

export function spendWarnings(config: Config, hosts: SpendSubject[], now: number): SpendWarnings {
  const idleStopOff =
    config.hosts.compute.idleStop.minutes === undefined ? hosts.filter((host) => host.role === 'compute' && host.state === 'running').map((host) => host.name) : [];
  const oldImages = hosts.flatMap((host) => {
    if (host.savedAt === undefined || host.state === 'running') return [];
    const days = Math.floor((now - Date.parse(host.savedAt)) / DAY_MS);
    return days > config.savedImageWarnDays ? [{ name: host.name, days, perMonth: host.storagePerMonth }] : [];
  });
  return { idleStopOff, oldImages };
}

/** The warnings in a few words each, for the status line and `pcc doctor`. */
export function spendWarningLines(warnings: SpendWarnings): string[] {
  const lines: string[] = [];
  if (warnings.idleStopOff.length > 0) lines.push(`${warnings.idleStopOff.join(', ')} ${warnings.idleStopOff.length === 1 ? 'runs' : 'run'} with idle stop off`);
  for (const image of warnings.oldImages) {
    lines.push(`${image.name} saved as an image ${image.days} days ago${image.perMonth === undefined ? '' : ` (${usd(image.perMonth)}/month)`}`);
  }
  return lines;
}

/** A state record as the warnings see it. */
export function spendSubjectOf(host: HostRecord, storagePerMonth: number | undefined): SpendSubject {
  return { name: host.name, role: host.role, state: host.state, savedAt: host.billing?.savedAt, storagePerMonth };
}
