import { describe, expect, it } from 'vitest';
import { hostGroups, selectHosts } from '../../src/engine/inventory.js';
import { PccError } from '../../src/core/errors.js';
import type { HostRecord } from '../../src/engine/state.js';

const host = (name: string, extra: Partial<HostRecord> = {}): HostRecord => ({
  name,
  provider: 'vagrant',
  role: 'compute',
  computeType: 'cpu',
  state: 'running',
  extras: {},
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...extra,
});

const HOSTS = [
  host('init', { role: 'init' }),
  host('vagrant1'),
  host('vagrant2'),
  host('i-0abc123', { provider: 'ec2', computeType: 'gpu', extras: { instanceType: 'g5.xlarge', instanceId: 'i-0abc123' } }),
];
const names = (pattern: string) => selectHosts(HOSTS, pattern).map((h) => h.name);

describe('inventory', () => {
  it('gives each host its provider, compute type and provider extras as groups', () => {
    expect(hostGroups(HOSTS[1] as HostRecord)).toEqual(['vagrant', 'cpu']);
    expect(hostGroups(HOSTS[3] as HostRecord)).toEqual(['ec2', 'gpu', 'g5.xlarge', 'i-0abc123']);
    expect(hostGroups(HOSTS[0] as HostRecord)).toEqual(['vagrant', 'init']);
  });

  it('selects by name, group, glob, comma list and all', () => {
    expect(names('vagrant2')).toEqual(['vagrant2']);
    expect(names('cpu')).toEqual(['vagrant1', 'vagrant2']);
    expect(names('vagrant')).toEqual(['init', 'vagrant1', 'vagrant2']);
    expect(names('vagrant?')).toEqual(['vagrant1', 'vagrant2']);
    expect(names('gpu,vagrant1')).toEqual(['vagrant1', 'i-0abc123']);
    expect(names('g5.*')).toEqual(['i-0abc123']);
    expect(names('all')).toHaveLength(4);
  });

  it('rejects a term that matches nothing, naming the known hosts', () => {
    expect(() => names('vagrant1,vagrnt2')).toThrow(PccError);
    expect(() => names('vagrnt2')).toThrow('pattern "vagrnt2" matches no host (hosts: init, vagrant1, vagrant2, i-0abc123)');
    expect(() => selectHosts([], 'all')).toThrow('there are no hosts');
    expect(() => names(' , ')).toThrow('empty host pattern');
  });
});
