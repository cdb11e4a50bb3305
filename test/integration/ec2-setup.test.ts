import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { EngineEvent } from '../../src/engine/events.js';
import { destroy, resume, save, up } from '../../src/engine/lifecycle.js';
import { reconcile } from '../../src/engine/reconcile.js';
import { relaunchInterrupted } from '../../src/engine/spot-relaunch.js';
import { hostSteps, setup } from '../../src/engine/setup/setup.js';
import { ensurePccKey } from '../../src/core/ssh-key.js';
import { Ec2Provider } from '../../src/providers/ec2/ec2-provider.js';
import { FakeEc2 } from '../helpers/fake-ec2.js';
import { docker, startFleetMachine, type FleetMachine } from '../helpers/fleet.js';
import { makeProject, tempDir } from '../helpers/project.js';

function pinnedKey(machine: FleetMachine): { type: string; base64: string } {
  const [type = '', base64 = ''] = machine.hostKey.split(' ');
  return { type, base64 };
}

/**
 * An EC2 host whose instance is a real fleet machine: only the AWS API is faked (DescribeInstances
 * reports the machine's address as the instance's public address); SSH, host-key pinning, the SSH
 * config and the whole host setup run for real, through the same code as for Vagrant hosts.
 */
describe('EC2 hosts: real SSH and the same host setup as every host', () => {
  const label = Math.random().toString(36).slice(2, 7);
  const network = `pcc-ec2-test-${label}`;
  let machine: FleetMachine;
  let engine: Engine;
  let fake: FakeEc2;
  let id: string;
  let secondAddress: string;
  const events: EngineEvent[] = [];

  const setupEvents = (from: number) =>
    events.slice(from).filter((event): event is Extract<EngineEvent, { type: 'setup' }> => event.type === 'setup' && event.phase !== 'started');
  const onMachine = async (command: string) => (await execa('docker', ['exec', machine.id, 'bash', '-c', command])).stdout.trim();

  beforeAll(async () => {
    machine = await startFleetMachine(`pcc-ec2-${label}`);
    // A second network gives the same machine a second address: the "new public address" after a stop and start.
    await docker(['network', 'create', network]);
    await docker(['network', 'connect', network, machine.id]);
    secondAddress = await docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, machine.id]);

    const root = makeProject({
      'project.env': `PROJECT_NAME=ec2${label}\nAWS_REGION=eu-west-1\nEC2_SSH_USER=vagrant\nEC2_SSH_CIDRS=203.0.113.7/32\nVARLIBDOCKER_GB=3\n`,
      '.private': 'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=not-a-real-secret\n',
    });
    const home = tempDir('pcc-home-');
    const config = loadConfig(root, { HOME: home });
    // The key pair pcc imports is what AWS would install for the login user.
    const key = ensurePccKey(config.privateDir, `pcc-${config.project.name}`);
    await onMachine(`install -d -m 700 -o vagrant -g vagrant /home/vagrant/.ssh && echo '${key.publicKey}' >> /home/vagrant/.ssh/authorized_keys && chown vagrant:vagrant /home/vagrant/.ssh/authorized_keys`);

    fake = new FakeEc2(new EC2Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'not-a-real-secret' } }));
    fake.addresses = [machine.address, secondAddress];
    const provider = new Ec2Provider(config, {}, { client: fake.client, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, wait: { minDelay: 0.01, maxDelay: 0.02 } });
    mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
    engine = createEngine(config, { env: { ...process.env, HOME: home }, home, providers: [provider] });
    engine.events.subscribe((event) => events.push(event));
  });

  afterAll(async () => {
    engine?.ssh.closeAll();
    await machine?.remove();
    await execa('docker', ['network', 'rm', network], { reject: false });
  });

  it('up ec2 connects over SSH as EC2_SSH_USER with pcc key and pins the machine host key', async () => {
    const [host] = await up(engine, 'ec2', { count: 1, computeType: 'cpu' });
    id = host?.name ?? '';
    expect(id).toMatch(/^i-0[0-9a-f]+$/);
    expect(host).toMatchObject({ provider: 'ec2', state: 'running', address: `${machine.address}:22`, groups: ['ec2', 'cpu', 'c7i.2xlarge', id] });
    expect(engine.knownHosts.check(id, pinnedKey(machine))).toBe('match');
    expect(readFileSync(engine.sshConfig.pccFile, 'utf8')).toContain(`Host ${id} ec2-${id} cpu-${id} c7i.2xlarge-${id}\n  HostName ${machine.address}\n  Port 22\n  User vagrant`);
  });

  it('pcc setup runs every host step on the EC2 host: the same step objects as for Vagrant hosts', async () => {
    const steps = hostSteps(engine.config);
    const plans = steps.map((step) => vi.spyOn(step, 'plan'));
    const from = events.length;
    const summary = await setup(engine, 'ec2');
    // Each shared step planned for this EC2 host: no EC2-specific copy of any step exists to run instead.
    for (const plan of plans) expect(plan).toHaveBeenCalledWith(expect.any(Object), expect.objectContaining({ host: expect.objectContaining({ name: id, provider: 'ec2' }) }));
    for (const plan of plans) plan.mockRestore();
    expect(setupEvents(from).map((event) => [event.host, event.step, event.phase])).toEqual([
      [id, 'docker-storage', 'changed'],
      [id, 'docker-engine', 'changed'],
      [id, 'overlay', 'changed'],
      [id, 'registry-access', 'changed'],
      [id, 'cuda', 'unchanged'],
      [id, 'idle-stop', 'unchanged'],
      [id, 'spot-watch', 'unchanged'],
      [id, 'swarm', 'unchanged'],
      [id, 'project-share', 'failed'],
    ]);
    expect(summary.hosts.map((host) => host.steps.map((step) => step.step))).toEqual([steps.map((step) => step.id)]);
    expect(await onMachine("docker info --format '{{.Driver}}'")).toBe('btrfs');
    expect(engine.state.read().hosts[id]?.setupAt).toEqual(expect.any(String));
  }, 300_000);

  it('save stops it; resume starts it at its new address, rewrites its SSH entry and runs the setup again (unchanged)', async () => {
    const [saved] = await save(engine, 'ec2');
    expect(saved).toMatchObject({ name: id, state: 'saved' });
    expect(fake.instances.get(id)?.State?.Name).toBe('stopped');

    const from = events.length;
    const [resumed] = await resume(engine, id);
    expect(resumed).toMatchObject({ name: id, state: 'running', address: `${secondAddress}:22` });
    const entry = readFileSync(engine.sshConfig.pccFile, 'utf8');
    expect(entry).toContain(`  HostName ${secondAddress}\n`);
    expect(entry).not.toContain(machine.address);
    // The same machine answered at the new address with the key pinned at up.
    expect(engine.knownHosts.check(id, pinnedKey(machine))).toBe('match');
    expect(setupEvents(from).map((event) => [event.step, event.phase])).toEqual([
      ['docker-storage', 'unchanged'],
      ['docker-engine', 'unchanged'],
      ['overlay', 'unchanged'],
      ['registry-access', 'unchanged'],
      ['cuda', 'unchanged'],
      ['idle-stop', 'unchanged'],
      ['spot-watch', 'unchanged'],
      ['swarm', 'unchanged'],
      ['project-share', 'failed'],
    ]);
  }, 300_000);

  it('destroy ec2 terminates it, removes its SSH entry and ends with nothing tagged for the project', async () => {
    const report = await destroy(engine, 'ec2');
    expect(report).toEqual({ destroyed: [id], left: [] });
    expect(fake.tagged(engine.config.project.name)).toEqual([]);
    expect(engine.state.read().hosts).toEqual({});
    expect(() => readFileSync(engine.sshConfig.pccFile, 'utf8')).toThrow();
    expect(engine.knownHosts.check(id, pinnedKey(machine))).toBe('unknown');
  });

  it('a spot host brought up with --relaunch gets a set-up replacement of its type after an interruption, once', async () => {
    // The spot host and its replacement are the same fleet machine, at its two addresses.
    fake.addresses = [machine.address, secondAddress];
    const [spot] = await up(engine, 'ec2', { count: 1, computeType: 'cpu', spot: true, relaunch: true });
    const spotId = spot?.name ?? '';
    await setup(engine, spotId);
    expect(await onMachine('systemctl is-active pcc-spot-watch.service')).toBe('active');
    fake.interrupt(spotId);

    const from = events.length;
    const hosts = await relaunchInterrupted(engine, await reconcile(engine));
    const replacement = hosts.find((host) => host.name !== spotId);
    expect(replacement).toMatchObject({ state: 'running', relaunch: true, billing: { instanceType: 'c7i.2xlarge', spot: true }, setupAt: expect.any(String) });
    expect(hosts.find((host) => host.name === spotId)).toMatchObject({ state: 'interrupted', replacedBy: replacement?.name });
    expect(setupEvents(from).filter((event) => event.host === replacement?.name).map((event) => event.step)).toContain('spot-watch');
    expect(events.slice(from)).toContainEqual(expect.objectContaining({ type: 'log', message: expect.stringContaining(`${replacement?.name} replaces ${spotId}`) }));

    // Seen again, the interrupted host has its replacement: nothing more is launched.
    const again = await relaunchInterrupted(engine, await reconcile(engine));
    expect(again.map((host) => host.name).sort()).toEqual([spotId, replacement?.name].sort());
    const report = await destroy(engine, 'ec2');
    expect(report.destroyed.sort()).toEqual([spotId, replacement?.name].sort());
    expect(report.left).toEqual([]);
  }, 300_000);
});
