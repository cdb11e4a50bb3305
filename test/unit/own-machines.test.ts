import { describe, expect, it } from 'vitest';
import { defaultName, parseTarget } from '../../src/engine/own-machines.js';

describe('pcc add ssh: the machine named on the command line', () => {
  it('takes USER@HOST with an optional port, also for IPv6 in brackets', () => {
    expect(parseTarget('alice@lab1.example.org')).toEqual({ user: 'alice', host: 'lab1.example.org', port: 22 });
    expect(parseTarget('bob@10.0.0.7:2222')).toEqual({ user: 'bob', host: '10.0.0.7', port: 2222 });
    expect(parseTarget('root@[2001:db8::7]:22')).toEqual({ user: 'root', host: '2001:db8::7', port: 22 });
  });

  it('refuses anything else with the form it expects', () => {
    for (const bad of ['lab1', '@lab1', 'alice@', 'alice@lab1:0', 'alice@lab1:70000', 'alice@lab 1', 'al;ice@lab1', 'alice@lab1:22:33']) {
      expect(() => parseTarget(bad), bad).toThrow(`${bad}: expected USER@HOST or USER@HOST:PORT`);
    }
  });

  it("names a machine after its host name's first label, or its address with dashes", () => {
    expect(defaultName('lab1.example.org')).toBe('lab1');
    expect(defaultName('gpu-box')).toBe('gpu-box');
    expect(defaultName('10.0.0.7')).toBe('host-10-0-0-7');
    expect(defaultName('2001:db8::7')).toBe('host-2001-db8--7');
  });
});
