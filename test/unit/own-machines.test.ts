import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { defaultName, parseTarget } from '../../src/engine/own-machines.js';
import { SshProvider } from '../../src/providers/ssh/ssh-provider.js';
import { makeProject, tempDir } from '../helpers/project.js';

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

describe('whether an added machine answers', () => {
  it('counts an SSH greeting only: a port that accepts and says nothing, or says something else, is unreachable', async () => {
    const servers = [
      createServer((socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n')),
      createServer(() => undefined),
      createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')),
    ];
    const ports = await Promise.all(servers.map((server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)))));
    try {
      const provider = new SshProvider(loadConfig(makeProject({}), { HOME: tempDir('pcc-home-') }));
      for (const [index, port] of ports.entries()) await provider.add({ name: `m${index}`, host: '127.0.0.1', port, user: 'u', computeType: 'cpu' });
      await provider.add({ name: 'refused', host: '127.0.0.1', port: 1, user: 'u', computeType: 'cpu' });
      const states = Object.fromEntries((await provider.list()).map((machine) => [machine.name, machine.state]));
      expect(states).toEqual({ m0: 'running', m1: 'unreachable', m2: 'unreachable', refused: 'unreachable' });
    } finally {
      for (const server of servers) server.close();
    }
  });
});
