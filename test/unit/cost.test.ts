import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { BUNDLED_PRICES, costLine, costReport, costSince, Prices, usd } from '../../src/engine/cost.js';
import type { HostRecord } from '../../src/engine/state.js';
import { makeProject } from '../helpers/project.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');

function ec2Host(name: string, billing: HostRecord['billing'], state: HostRecord['state'] = 'running'): HostRecord {
  return { name, provider: 'ec2', role: 'compute', computeType: 'cpu', state, extras: {}, billing, createdAt: '', updatedAt: '' };
}

describe('cost', () => {
  it('an hourly price over a known time: per second, with one minute at least', () => {
    expect(costSince(1.006, '2026-12-01T09:00:00Z', NOW)).toBeCloseTo(3.018, 10);
    expect(costSince(0.357, '2026-12-01T09:30:00Z', NOW)).toBeCloseTo(0.8925, 10);
    // Ten seconds are billed as a minute.
    expect(costSince(3.6, '2026-12-01T11:59:50Z', NOW)).toBeCloseTo(0.06, 10);
  });

  it('prices a running host from the bundled table, with its source and date, and its disk per GB-month', () => {
    const prices = new Prices(loadConfig(makeProject(), {}));
    const cost = prices.hostCost(ec2Host('i-1', { instanceType: 'g5.xlarge', spot: false, runningSince: '2026-12-01T10:00:00Z', storage: [{ kind: 'volume', gb: 200 }] }), 'us-east-1', NOW);
    expect(cost).toMatchObject({ perHour: 1.006, runningSince: '2026-12-01T10:00:00Z', storagePerMonth: 16, notes: [] });
    expect(cost?.sinceStart).toBeCloseTo(2.012, 10);
    expect(cost?.instanceSource).toEqual({ source: BUNDLED_PRICES.source, date: BUNDLED_PRICES.date });
    expect(costLine(cost!, NOW)).toBe('$1.01/h · $2.01 so far');
  });

  it('a saved host costs only its storage; an image its snapshots, with their upper bound said', () => {
    const prices = new Prices(loadConfig(makeProject(), {}));
    const stopped = prices.hostCost(ec2Host('i-2', { instanceType: 'c7i.2xlarge', spot: false, storage: [{ kind: 'volume', gb: 100 }] }, 'saved'), 'us-east-1', NOW);
    expect(stopped).toMatchObject({ runningSince: undefined, sinceStart: undefined, storagePerMonth: 8 });
    expect(costLine(stopped!, NOW)).toBe('$8.00/mo disk');
    const image = prices.hostCost(ec2Host('i-3', { instanceType: 'c7i.2xlarge', spot: false, savedAt: '2026-10-01T00:00:00Z', storage: [{ kind: 'snapshot', gb: 100 }] }, 'saved'), 'us-east-1', NOW);
    expect(image).toMatchObject({ storagePerMonth: 5, savedAt: '2026-10-01T00:00:00Z', notes: [expect.stringContaining('upper bound')] });
    expect(costLine(image!, NOW)).toBe('$5.00/mo image');
  });

  it("EC2_PRICES replaces the table's prices and says where they came from; an unknown type says how to price it", () => {
    const config = loadConfig(makeProject({ 'project.env': 'EC2_PRICES=g5.xlarge=0.9, ebs=0.1\n' }), {});
    const prices = new Prices(config);
    const cost = prices.hostCost(ec2Host('i-1', { instanceType: 'g5.xlarge', spot: true, runningSince: '2026-12-01T11:00:00Z', storage: [{ kind: 'volume', gb: 10 }] }), 'eu-west-1', NOW);
    expect(cost).toMatchObject({ perHour: 0.9, storagePerMonth: 1, instanceSource: { source: 'EC2_PRICES (config/project.env:1)', date: undefined } });
    expect(cost?.notes).toEqual([expect.stringContaining('spot'), "prices are us-east-1's; eu-west-1 differs a little"]);
    const unknown = prices.hostCost(ec2Host('i-9', { instanceType: 'x2iedn.32xlarge', spot: false, runningSince: '2026-12-01T11:00:00Z', storage: [] }), 'us-east-1', NOW);
    expect(unknown).toMatchObject({ perHour: undefined, sinceStart: undefined, notes: ['no price for x2iedn.32xlarge: set EC2_PRICES=x2iedn.32xlarge=USD_PER_HOUR'] });
  });

  it('a price list that is not name=price pairs is a clear config error', () => {
    expect(() => loadConfig(makeProject({ 'project.env': 'EC2_PRICES=g5.xlarge:$1\n' }), {})).toThrow(/EC2_PRICES.*name=price pairs/s);
  });

  it('totals per provider: running hosts by the hour and since start, storage of all; unpriced ones named, local ones free', () => {
    const prices = new Prices(loadConfig(makeProject(), {}));
    const hosts: HostRecord[] = [
      ec2Host('i-a', { instanceType: 'g5.xlarge', spot: false, runningSince: '2026-12-01T10:00:00Z', storage: [{ kind: 'volume', gb: 100 }] }),
      ec2Host('i-b', { instanceType: 'c7i.2xlarge', spot: false, runningSince: '2026-12-01T11:00:00Z', storage: [{ kind: 'volume', gb: 50 }] }),
      ec2Host('i-c', { instanceType: 'c7i.2xlarge', spot: false, storage: [{ kind: 'volume', gb: 50 }] }, 'saved'),
      ec2Host('i-d', { instanceType: 'mystery.large', spot: false, runningSince: '2026-12-01T11:00:00Z', storage: [] }),
      ec2Host('i-e', { instanceType: 'c7i.2xlarge', spot: false, storage: [] }, 'gone'),
      { ...ec2Host('vagrant1', undefined), provider: 'vagrant' },
    ];
    const [ec2, vagrant] = costReport(prices, hosts, 'us-east-1', NOW);
    expect(ec2).toMatchObject({ provider: 'ec2', unpriced: ['i-d'], storagePerMonth: 16 });
    expect(ec2?.runningPerHour).toBeCloseTo(1.363, 10);
    expect(ec2?.sinceStart).toBeCloseTo(2 * 1.006 + 0.357, 10);
    expect(ec2?.hosts.map((host) => host.name)).toEqual(['i-a', 'i-b', 'i-c', 'i-d']);
    expect(vagrant).toMatchObject({ provider: 'vagrant', runningPerHour: 0, hosts: [{ name: 'vagrant1', cost: undefined }] });
  });

  it('small amounts keep their digits', () => {
    expect(usd(0.0042)).toBe('$0.0042');
    expect(usd(12.345)).toBe('$12.35');
    expect(usd(0)).toBe('$0.00');
  });
});
