import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { describeError } from '../../src/core/errors.js';
import { createEngine } from '../../src/engine/engine.js';
import type { EngineEvent } from '../../src/engine/events.js';
import { peerSections } from '../../src/engine/overlay/wireguard.js';
import { reconcile } from '../../src/engine/reconcile.js';
import { SshConfigFiles } from '../../src/engine/ssh/ssh-config.js';
import { StateStore } from '../../src/engine/state.js';
import type { Machine, Provider, SshEndpoint } from '../../src/providers/provider.js';
import { makeProject, tempDir } from '../helpers/project.js';

const INJECTED = 'vagrant1\nHost *\n  ProxyCommand touch /tmp/pcc-pwned';
const good = { name: 'vagrant1', provider: 'vagrant', role: 'compute', computeType: 'cpu', state: 'running', extras: {}, createdAt: '', updatedAt: '' };
const ssh = { host: '127.0.0.1', port: 2222, user: 'vagrant', identityFile: '/p/.pcc/key' };

function stateWith(host: Record<string, unknown>): StateStore {
  const store = new StateStore(tempDir('pcc-state-'));
  writeFileSync(store.file, JSON.stringify({ schemaVersion: 1, hosts: { x: host } }));
  return store;
}

/** A provider that lists whatever machines the test gives it (as EC2 tags could). */
class TaggedProvider implements Provider {
  readonly name = 'ec2' as const;
  constructor(readonly machines: Machine[]) {}
  capabilities() {
    return { canSuspend: false };
  }
  async list() {
    return this.machines;
  }
  async sshEndpoint(): Promise<SshEndpoint> {
    return { host: '203.0.113.7', port: 22, user: 'admin', identityFile: '/p/.pcc/id_ed25519' };
  }
  async up(): Promise<Machine[]> {
    throw new Error('not used');
  }
  async start() {}
  async save() {}
  async destroy() {}
}

describe('state and tags cannot inject ssh options', () => {
  it.each([
    ['a host name with a line break', { ...good, name: INJECTED }, 'hosts.x.name'],
    ['a user with an option', { ...good, ssh: { ...ssh, user: 'vagrant -oProxyCommand=touch' } }, 'hosts.x.ssh.user'],
    ['an address with a space', { ...good, ssh: { ...ssh, host: '127.0.0.1 evil' } }, 'hosts.x.ssh.host'],
    ['an identity file that closes its quotes', { ...good, ssh: { ...ssh, identityFile: '/p/key"\n  ProxyCommand touch /tmp/x' } }, 'hosts.x.ssh.identityFile'],
    ['a group with a space', { ...good, extras: { instanceType: 'g5.xlarge evil' } }, 'hosts.x.extras.instanceType'],
    ['an overlay endpoint with a line break', { ...good, overlay: { index: 2, endpoint: '1.2.3.4\nPostUp = touch /tmp/x' } }, 'hosts.x.overlay.endpoint'],
  ])('state.json with %s is refused, naming the field', (_what, host, field) => {
    expect(() => stateWith(host).read()).toThrow(new RegExp(`is malformed: ${field.replaceAll('.', '\\.')}: expected`));
  });

  it('real values of every field read back: a weave peer name, an EC2 host, a key path with spaces', () => {
    const host = {
      ...good,
      name: 'i-0abc123def4567890',
      extras: { instanceType: 'g5.xlarge', instanceId: 'i-0abc123def4567890' },
      ssh: { host: '203.0.113.7', port: 22, user: 'ubuntu', identityFile: '/home/me/my project/.pcc/ssh/id_ed25519' },
      overlay: { index: 3, peerId: '5a:00:00:00:00:3c(vagrant2)', endpoint: '172.17.0.3' },
    };
    expect(stateWith(host).read().hosts.x).toEqual(host);
  });

  it('a state file that holds null (or a list) is a clear error, not a TypeError', () => {
    const store = new StateStore(tempDir('pcc-state-'));
    writeFileSync(store.file, 'null');
    expect(() => store.read()).toThrow(/state\.json holds null, not pcc's state/);
    writeFileSync(store.file, '[]');
    expect(() => store.read()).toThrow(/holds a list/);
  });

  it('the ssh config refuses such a host before writing, and the user\'s own config stays as it was', async () => {
    const home = tempDir('pcc-home-');
    mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
    writeFileSync(path.join(home, '.ssh', 'config'), 'Host github.com\n  User git\n', { mode: 0o600 });
    const files = new SshConfigFiles(home, 'demo', '/p/.pcc/known_hosts');
    await expect(files.write([{ name: INJECTED, aliases: [], ...ssh }])).rejects.toThrow(/host "vagrant1\\nHost \*\\n  ProxyCommand touch \/tmp\/pcc-pwned": name/);
    await expect(files.write([{ name: 'vagrant1', aliases: ['cpu-vagrant1 evil'], ...ssh }])).rejects.toThrow(/alias of vagrant1/);
    expect(readFileSync(path.join(home, '.ssh', 'config'), 'utf8')).toBe('Host github.com\n  User git\n');
    expect(existsSync(files.pccFile)).toBe(false);
  });

  it('reconcile leaves out a machine whose tags would inject, warns, and keeps the others', async () => {
    const home = tempDir('pcc-home-');
    const provider = new TaggedProvider([
      { name: 'i-0good', provider: 'ec2', role: 'compute', computeType: 'cpu', state: 'running', extras: { instanceType: 't3.large', instanceId: 'i-0good' } },
      { name: 'i-0bad', provider: 'ec2', role: 'compute', computeType: 'cpu', state: 'running', extras: { instanceType: 't3.large\n  ProxyCommand touch /tmp/x', instanceId: 'i-0bad' } },
    ]);
    const engine = createEngine(loadConfig(makeProject({ 'project.env': 'PROJECT_NAME=inject\n' }), {}), { env: {}, home, providers: [provider] });
    const events: EngineEvent[] = [];
    engine.events.subscribe((event) => events.push(event));
    const hosts = await reconcile(engine);
    expect(hosts.map((host) => host.name)).toEqual(['i-0good']);
    expect(events).toContainEqual(expect.objectContaining({ type: 'log', level: 'warn', message: expect.stringMatching(/left out: ec2: host "i-0bad": extras\.instanceType/) }));
    const written = readFileSync(engine.sshConfig.pccFile, 'utf8');
    expect(written).toContain('Host i-0good');
    expect(written).not.toContain('ProxyCommand');
  });

  it('a WireGuard peer whose key or endpoint would add lines is refused', () => {
    const settings = loadConfig(makeProject(), {}).hosts.compute;
    const self = { name: 'vagrant1', index: 2, peerId: `${'A'.repeat(43)}=`, endpoint: '10.0.0.2' };
    expect(() => peerSections(self, [self, { name: 'init', index: 1, peerId: 'x=\nPostUp = touch /tmp/x', endpoint: '10.0.0.1' }], settings)).toThrow(/overlay peer init: public key/);
    expect(() => peerSections(self, [self, { name: 'init', index: 1, peerId: `${'B'.repeat(42)}A=`, endpoint: '10.0.0.1\nPostUp = x' }], settings)).toThrow(/overlay peer init: endpoint/);
  });
});

describe("the user's ~/.ssh", () => {
  const host = { name: 'vagrant1', aliases: [], ...ssh };

  it('creates ~/.ssh and config.d with mode 0700', async () => {
    const home = tempDir('pcc-home-');
    const files = new SshConfigFiles(home, 'demo', '/p/.pcc/known_hosts');
    await files.write([host]);
    expect(statSync(path.join(home, '.ssh')).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(home, '.ssh', 'config.d')).mode & 0o777).toBe(0o700);
  });

  it('refuses a read-only ~/.ssh/config with what to add, and leaves it as it is', async () => {
    const home = tempDir('pcc-home-');
    mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
    const config = path.join(home, '.ssh', 'config');
    writeFileSync(config, 'Host github.com\n  User git\n', { mode: 0o444 });
    const files = new SshConfigFiles(home, 'demo', '/p/.pcc/known_hosts');
    await expect(files.write([host])).rejects.toThrow(/config is read-only: pcc leaves it as it is/);
    await expect(files.write([host])).rejects.toMatchObject({ hint: expect.stringContaining(files.includeLine) });
    expect(readFileSync(config, 'utf8')).toBe('Host github.com\n  User git\n');
    expect(statSync(config).mode & 0o777).toBe(0o444);
    chmodSync(config, 0o600);
  });

  it('turns a raw file-system error into one that names the file and the fix', () => {
    const error = Object.assign(new Error("EISDIR: illegal operation on a directory, read"), { code: 'EISDIR', path: '/home/me/.ssh/config' });
    expect(describeError(error)).toBe('/home/me/.ssh/config is a folder where pcc expects a file\n  Move the folder aside, then run the command again.');
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES', path: '/p/.pcc/state.json' });
    expect(describeError(denied)).toMatch(/^permission denied: \/p\/\.pcc\/state\.json\n  Check who owns it and its mode/);
  });
});
