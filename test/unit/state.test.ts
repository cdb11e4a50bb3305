import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateStore } from '../../src/engine/state.js';
import { KnownHosts } from '../../src/engine/ssh/known-hosts.js';
import { tempDir } from '../helpers/project.js';

const record = (name: string) => ({
  name,
  provider: 'vagrant' as const,
  role: 'compute' as const,
  computeType: 'cpu' as const,
  state: 'running' as const,
  extras: {},
  createdAt: 'now',
  updatedAt: 'now',
});

describe('state.json', () => {
  it('applies concurrent updates one after another without losing any', async () => {
    const store = new StateStore(tempDir('pcc-state-'));
    await Promise.all(Array.from({ length: 15 }, (_, i) => store.update((state) => void (state.hosts[`h${i}`] = record(`h${i}`)))));
    expect(Object.keys(store.read().hosts)).toHaveLength(15);
    expect(store.read().schemaVersion).toBe(1);
  });

  it('refuses a file of another schema version, and a malformed one, saying what to do', () => {
    const dir = tempDir('pcc-state-');
    const store = new StateStore(dir);
    writeFileSync(store.file, JSON.stringify({ schemaVersion: 9, hosts: {} }));
    expect(() => store.read()).toThrow('has schema version 9; this pcc reads version 1');
    writeFileSync(store.file, '{"schemaVersion": 1, "hosts": {"x": {"name": 3}}}');
    expect(() => store.read()).toThrow(/is malformed: hosts\.x\.name/);
    writeFileSync(store.file, '{"schemaVersion": 1,');
    expect(() => store.read()).toThrow(/is not valid JSON/);
  });
});

describe('known_hosts pins', () => {
  it('pins on first use, matches the same key, flags another, forgets on request', async () => {
    const pins = new KnownHosts(path.join(tempDir('pcc-kh-'), 'known_hosts'));
    const key = { type: 'ssh-ed25519', base64: 'AAAAC3NzaC1lZDI1NTE5AAAAIA' };
    expect(pins.check('vagrant1', key)).toBe('unknown');
    await pins.pin('vagrant1', key);
    expect(pins.check('vagrant1', key)).toBe('match');
    expect(pins.check('vagrant1', { ...key, base64: 'AAAAC3NzaC1lZDI1NTE5AAAAIB' })).toBe('mismatch');
    expect(pins.check('vagrant2', key)).toBe('unknown');
    await pins.forget('vagrant1');
    expect(pins.check('vagrant1', key)).toBe('unknown');
  });
});
