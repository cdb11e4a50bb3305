import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { createEngine } from '../../src/engine/engine.js';
import type { EngineEvent } from '../../src/engine/events.js';
import { reconcile } from '../../src/engine/reconcile.js';
import type { Machine, MachineState, Provider, SshEndpoint } from '../../src/providers/provider.js';
import { makeProject, tempDir } from '../helpers/project.js';

/** A provider whose machines are whatever the test says they are now. */
class ListedProvider implements Provider {
  readonly name = 'vagrant' as const;
  states: Record<string, MachineState> = {};
  unreachable = new Set<string>();
  capabilities() {
    return { canSuspend: true };
  }
  async list(): Promise<Machine[]> {
    return Object.entries(this.states).map(([name, state]) => ({ name, provider: 'vagrant', role: 'compute', computeType: 'cpu', state, extras: {} }));
  }
  async sshEndpoint(name: string): Promise<SshEndpoint> {
    if (this.unreachable.has(name)) throw new Error(`${name}: vagrant ssh-config failed`);
    return { host: '127.0.0.1', port: 2200 + Number(name.replace(/\D/g, '')), user: 'vagrant', identityFile: '/dev/null' };
  }
  async up(): Promise<Machine[]> {
    throw new Error('not used');
  }
  async start() {}
  async save() {}
  async destroy() {}
}

/** A provider that cannot be reached (AWS down, expired credentials). */
class UnreachableProvider extends ListedProvider {
  override readonly name = 'ec2' as unknown as 'vagrant';
  override async list(): Promise<Machine[]> {
    throw new Error('getaddrinfo ENOTFOUND ec2.eu-west-1.amazonaws.com');
  }
}

function engineWith(provider: Provider, ...others: Provider[]) {
  const home = tempDir('pcc-home-');
  const engine = createEngine(loadConfig(makeProject({ 'project.env': 'PROJECT_NAME=recon\n' }), {}), { env: {}, home, providers: [provider, ...others] });
  const events: EngineEvent[] = [];
  engine.events.subscribe((event) => events.push(event));
  return { engine, events, sshConfig: () => readFileSync(engine.sshConfig.pccFile, 'utf8') };
}

describe('reconcile', () => {
  it('gives a recorded running machine without an address (pcc killed during up) its address and SSH entry', async () => {
    const provider = new ListedProvider();
    const { engine, sshConfig } = engineWith(provider);
    await engine.state.update((state) => {
      state.hosts.vagrant1 = { name: 'vagrant1', provider: 'vagrant', role: 'compute', computeType: 'cpu', state: 'creating', extras: {}, createdAt: '', updatedAt: '' };
    });
    provider.states = { vagrant1: 'running' };
    const hosts = await reconcile(engine);
    expect(hosts.find((host) => host.name === 'vagrant1')).toMatchObject({ state: 'running', ssh: { host: '127.0.0.1', port: 2201 } });
    expect(sshConfig()).toMatch(/Host vagrant1 vagrant-vagrant1 cpu-vagrant1[\s\S]*Port 2201/);
  });

  it('marks a machine removed behind pcc (listed as never created) gone, and keeps it gone', async () => {
    const provider = new ListedProvider();
    const { engine, sshConfig } = engineWith(provider);
    provider.states = { vagrant1: 'running', vagrant2: 'running' };
    await reconcile(engine);
    expect(sshConfig()).toContain('Host vagrant2 ');

    provider.states = { vagrant1: 'running', vagrant2: 'not-created' };
    for (let run = 0; run < 2; run++) {
      const hosts = await reconcile(engine);
      expect(hosts.map((host) => [host.name, host.state])).toEqual([['vagrant1', 'running'], ['vagrant2', 'gone']]);
    }
    expect(sshConfig()).not.toContain('Host vagrant2 ');
    expect(sshConfig()).toContain('Host vagrant1 ');
  });

  it('a machine whose address cannot be read yet is a warning; the others are listed', async () => {
    const provider = new ListedProvider();
    const { engine, events } = engineWith(provider);
    provider.states = { vagrant1: 'running', vagrant2: 'running' };
    provider.unreachable.add('vagrant2');
    const hosts = await reconcile(engine);
    expect(hosts.find((host) => host.name === 'vagrant1')?.ssh?.port).toBe(2201);
    expect(hosts.find((host) => host.name === 'vagrant2')?.ssh).toBeUndefined();
    expect(events).toContainEqual(expect.objectContaining({ type: 'log', level: 'warn', host: 'vagrant2', message: expect.stringContaining('no SSH address yet') }));

    provider.unreachable.clear();
    expect((await reconcile(engine)).find((host) => host.name === 'vagrant2')?.ssh?.port).toBe(2202);
  });

  it('one provider that does not answer is a warning: the others are reconciled, its hosts stay as recorded', async () => {
    const provider = new ListedProvider();
    const { engine, events, sshConfig } = engineWith(provider, new UnreachableProvider());
    await engine.state.update((state) => {
      state.hosts['i-0abc'] = { name: 'i-0abc', provider: 'ec2', role: 'compute', computeType: 'gpu', state: 'running', extras: {}, ssh: { host: '203.0.113.7', port: 22, user: 'admin', identityFile: '/p/key' }, createdAt: '', updatedAt: '' };
    });
    provider.states = { vagrant1: 'running' };
    const hosts = await reconcile(engine);
    expect(hosts.map((host) => [host.name, host.state])).toEqual([['i-0abc', 'running'], ['vagrant1', 'running']]);
    expect(events).toContainEqual(expect.objectContaining({ type: 'log', level: 'warn', message: expect.stringMatching(/^ec2 did not answer; its hosts are shown as last recorded: getaddrinfo ENOTFOUND/) }));
    expect(sshConfig()).toContain('Host vagrant1 ');
  });
});
