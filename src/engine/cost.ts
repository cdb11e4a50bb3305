import { existsSync, readFileSync } from 'node:fs';
import type { Config } from '../core/config/load.js';
import { ec2RegionFile } from '../providers/ec2/ec2-usage.js';
import type { ProviderName } from '../providers/provider.js';
import type { Engine } from './engine.js';
import type { HostRecord } from './state.js';

/**
 * The prices pcc ships with: AWS's published on-demand prices for Linux in us-east-1, for the instance
 * types pcc offers and their neighbours. Other regions cost somewhat more; EC2_PRICES replaces any of them.
 */
export const BUNDLED_PRICES = {
  date: '2024-06-01',
  source: 'bundled table: AWS on-demand, Linux, us-east-1',
  region: 'us-east-1',
  /** USD per hour. */
  instances: {
    't3.medium': 0.0416, 't3.large': 0.0832, 't3.xlarge': 0.1664, 't3.2xlarge': 0.3328,
    'c7i.large': 0.08925, 'c7i.xlarge': 0.1785, 'c7i.2xlarge': 0.357, 'c7i.4xlarge': 0.714, 'c7i.8xlarge': 1.428, 'c7i.16xlarge': 2.856,
    'm7i.large': 0.1008, 'm7i.xlarge': 0.2016, 'm7i.2xlarge': 0.4032, 'm7i.4xlarge': 0.8064, 'm7i.8xlarge': 1.6128,
    'r7i.large': 0.1323, 'r7i.xlarge': 0.2646, 'r7i.2xlarge': 0.5292, 'r7i.4xlarge': 1.0584,
    'c7g.2xlarge': 0.289, 'm7g.2xlarge': 0.3264,
    'g4dn.xlarge': 0.526, 'g4dn.2xlarge': 0.752, 'g4dn.4xlarge': 1.204,
    'g5.xlarge': 1.006, 'g5.2xlarge': 1.212, 'g5.4xlarge': 1.624, 'g5.8xlarge': 2.448, 'g5.12xlarge': 5.672,
    'g6.xlarge': 0.8048, 'g6.2xlarge': 0.9776, 'g6.4xlarge': 1.3232, 'g6.12xlarge': 4.6016,
    'g6e.xlarge': 1.861, 'p3.2xlarge': 3.06, 'p4d.24xlarge': 32.7726,
  } as Record<string, number>,
  /** USD per GB-month: gp3 disks, and EBS snapshots (standard tier). */
  ebs: 0.08,
  snapshot: 0.05,
};

/** Where a price came from, shown beside it: the bundled table (with its date) or the user's setting. */
export interface PriceSource {
  source: string;
  date: string | undefined;
}

/** What one host costs, in USD, as far as pcc can tell. */
export interface HostCost {
  /** Its instance's price while it runs; undefined where pcc has no price for its type. */
  perHour: number | undefined;
  /** When it last started (launch or resume), while it runs. */
  runningSince: string | undefined;
  /** What it has cost since then (per second, one minute at least, as EC2 bills Linux). */
  sinceStart: number | undefined;
  /** Its disks, or its saved image's snapshots, per month; billed whether it runs or not. */
  storagePerMonth: number;
  storage: NonNullable<HostRecord['billing']>['storage'];
  /** When it was saved as an image. */
  savedAt: string | undefined;
  instanceSource: PriceSource | undefined;
  storageSource: PriceSource;
  /** What the figures leave out or overstate, in words. */
  notes: string[];
}

/** The prices in effect: the bundled table with the user's EC2_PRICES over it. */
export class Prices {
  readonly #config: Config;

  constructor(config: Config) {
    this.#config = config;
  }

  #price(name: string, bundled: number | undefined): { usd: number; from: PriceSource } | undefined {
    const own = this.#config.aws.prices[name];
    if (own !== undefined) return { usd: own, from: this.#own() };
    return bundled === undefined ? undefined : { usd: bundled, from: { source: BUNDLED_PRICES.source, date: BUNDLED_PRICES.date } };
  }

  #own(): PriceSource {
    const origin = this.#config.sources.EC2_PRICES;
    return { source: `EC2_PRICES (${origin?.kind === 'file' ? `${origin.file}:${origin.line}` : origin?.kind === 'env' ? 'environment' : 'settings'})`, date: undefined };
  }

  instance(type: string) {
    return this.#price(type, BUNDLED_PRICES.instances[type]);
  }

  storage(kind: 'volume' | 'snapshot') {
    return this.#price(kind === 'volume' ? 'ebs' : 'snapshot', kind === 'volume' ? BUNDLED_PRICES.ebs : BUNDLED_PRICES.snapshot) as { usd: number; from: PriceSource };
  }

  /** What a host costs at `now` (ms); undefined for hosts no provider bills (local machines). */
  hostCost(host: Pick<HostRecord, 'billing' | 'state'>, region: string | undefined, now: number): HostCost | undefined {
    const billing = host.billing;
    if (!billing) return undefined;
    const notes: string[] = [];
    const instance = this.instance(billing.instanceType);
    if (!instance) notes.push(`no price for ${billing.instanceType || 'its instance type'}: set EC2_PRICES=${billing.instanceType || 'TYPE'}=USD_PER_HOUR`);
    else if (billing.spot) notes.push('spot: billed at the spot price, at most this on-demand price');
    const bundledUsed = (instance && instance.from.date !== undefined) || billing.storage.length > 0;
    if (bundledUsed && region !== undefined && region !== BUNDLED_PRICES.region) notes.push(`prices are ${BUNDLED_PRICES.region}'s; ${region} differs a little`);
    const running = host.state === 'running' && billing.runningSince !== undefined ? billing.runningSince : undefined;
    const storagePerMonth = billing.storage.reduce((sum, item) => sum + item.gb * this.storage(item.kind).usd, 0);
    if (billing.storage.some((item) => item.kind === 'snapshot')) notes.push("snapshots bill only the blocks in use: the image's disk size is an upper bound");
    return {
      perHour: instance?.usd,
      runningSince: running,
      sinceStart: running === undefined || !instance ? undefined : costSince(instance.usd, running, now),
      storagePerMonth,
      storage: billing.storage,
      savedAt: billing.savedAt,
      instanceSource: instance?.from,
      storageSource: this.storage(billing.storage[0]?.kind ?? 'volume').from,
      notes,
    };
  }
}

/** What an hourly price comes to from `since` until `now` (ms): per second, with EC2's one-minute minimum. */
export function costSince(perHour: number, since: string, now: number): number {
  const seconds = Math.max(60, (now - Date.parse(since)) / 1000);
  return (perHour * seconds) / 3600;
}

/** USD with cents, or a tenth of a cent below a cent, so small figures do not read as zero. */
export function usd(amount: number): string {
  return amount !== 0 && Math.abs(amount) < 0.01 ? `$${amount.toFixed(4)}` : `$${amount.toFixed(2)}`;
}

/** One provider's hosts and what they cost together. */
export interface ProviderCost {
  provider: ProviderName;
  hosts: { name: string; state: HostRecord['state']; instanceType: string | undefined; cost: HostCost | undefined }[];
  /** The hourly prices of its running hosts, added up. */
  runningPerHour: number;
  /** What its running hosts have cost since they started. */
  sinceStart: number;
  storagePerMonth: number;
  /** Running hosts pcc has no price for: the totals leave them out. */
  unpriced: string[];
}

/** What every provider's hosts cost: `pcc cost`. */
export function costReport(prices: Prices, hosts: HostRecord[], region: string | undefined, now: number): ProviderCost[] {
  const byProvider = new Map<ProviderName, ProviderCost>();
  for (const host of hosts.filter((record) => record.state !== 'gone').sort((a, b) => a.name.localeCompare(b.name))) {
    const entry = byProvider.get(host.provider) ?? { provider: host.provider, hosts: [], runningPerHour: 0, sinceStart: 0, storagePerMonth: 0, unpriced: [] };
    byProvider.set(host.provider, entry);
    const cost = prices.hostCost(host, region, now);
    entry.hosts.push({ name: host.name, state: host.state, instanceType: host.billing?.instanceType, cost });
    if (!cost) continue;
    entry.storagePerMonth += cost.storagePerMonth;
    if (cost.runningSince === undefined) continue;
    if (cost.perHour === undefined) entry.unpriced.push(host.name);
    else {
      entry.runningPerHour += cost.perHour;
      entry.sinceStart += cost.sinceStart ?? 0;
    }
  }
  return [...byProvider.values()].sort((a, b) => a.provider.localeCompare(b.provider));
}

/** The region the project's EC2 hosts live in: where pcc made them, else the configured one. */
export function ec2Region(config: Config): string | undefined {
  const file = ec2RegionFile(config);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : config.aws.region;
}

/** What a host costs now, with the project's prices; undefined for hosts no provider bills. */
export function hostCostOf(engine: Engine, host: HostRecord, now = Date.now()): HostCost | undefined {
  return new Prices(engine.config).hostCost(host, ec2Region(engine.config), now);
}

/** A host's cost in a few words, as the status table and the Hosts panel show it. */
export function costLine(cost: HostCost, now: number): string {
  const storage = `${usd(cost.storagePerMonth)}/mo disk`;
  if (cost.runningSince === undefined) return cost.storage.some((item) => item.kind === 'snapshot') ? `${usd(cost.storagePerMonth)}/mo image` : storage;
  if (cost.perHour === undefined) return `no price · ${storage}`;
  return `${usd(cost.perHour)}/h · ${usd(costSince(cost.perHour, cost.runningSince, now))} so far`;
}
