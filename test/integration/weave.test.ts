import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeerStatus } from '../../src/engine/overlay/peer-status.js';
import { makeFleetProject, pcc, privateDirOf, removeProjectContainers } from '../helpers/pcc.js';
import { filesUnder } from '../helpers/project.js';

interface Summary { hosts: { host: string; steps: { step: string; outcome: string; message?: string }[] }[] }

/**
 * OVERLAY_DRIVER=weave on two fleet machines. Weave Net itself cannot run on today's Docker, so each
 * machine gets a stand-in `weave` script (test/fleet/fake-weave.sh) that keeps Weave's state and
 * prints its documented status format: what is tested is pcc's side — the commands, the password's
 * path, live connect/forget, and the peer states read back.
 */
describe('the weave overlay driver on fleet machines (stand-in weave script)', () => {
  const project = makeFleetProject('weave');
  const password = `weave-pw-${Math.random().toString(36).slice(2, 10)}`;
  const container = (host: string) => `pcc-${project.name}-${host}`;
  const onHost = async (host: string, command: string) => (await execa('docker', ['exec', container(host), 'bash', '-c', command])).stdout.trim();
  const printed: string[] = [];
  const run = async (args: string[]) => {
    const result = await pcc(project, args);
    printed.push(result.stdout, result.stderr);
    return result;
  };
  const weaveLog = (host: string) => onHost(host, 'cat /var/log/fake-weave.log');
  const targets = async (host: string) => (await onHost(host, 'cat /var/lib/fake-weave/targets')).split('\n').filter(Boolean);
  const address: Record<string, string> = {};

  beforeAll(async () => {
    writeFileSync(path.join(project.root, 'config', 'hosts', 'global.env'), `OVERLAY_DRIVER=weave\nWEAVE_PASSWORD=${password}\n`);
    const up = await run(['up', 'vagrant', '--count', '2']);
    expect(up.exitCode, up.stderr).toBe(0);
    for (const host of ['vagrant1', 'vagrant2']) {
      address[host] = (await execa('docker', ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', container(host)])).stdout.trim();
    }
    const names = Object.entries(address).map(([host, ip]) => `${ip} ${host}`).join('\n');
    for (const host of ['vagrant1', 'vagrant2']) {
      await execa('docker', ['cp', path.resolve('test/fleet/fake-weave.sh'), `${container(host)}:/usr/local/bin/weave`]);
      await onHost(host, `chmod 755 /usr/local/bin/weave && mkdir -p /var/lib/fake-weave && printf '%s\\n' '${names}' > /var/lib/fake-weave/names`);
    }
  }, 300_000);
  afterAll(async () => {
    await pcc(project, ['destroy', 'all', '--yes']);
    await removeProjectContainers(project);
  }, 300_000);

  it('setup launches weave with the password in its environment only, exposes the overlay address and connects the peers', async () => {
    const setup = await run(['setup', 'all', '--json']);
    const summary = JSON.parse(setup.stdout) as Summary;
    for (const host of summary.hosts) {
      const overlay = host.steps.find((step) => step.step === 'overlay');
      expect(overlay?.outcome, `${host.host}: ${overlay?.message}`).toBe('changed');
    }
    const log = await weaveLog('vagrant1');
    expect(log).toMatch(/^launch --nickname vagrant1 --ipalloc-range 10\.128\.128\.0\/17\b.* password=set$/m);
    expect(log).toMatch(/^expose 10\.128\.0\.\d+\/16 password=/m);
    expect(log).not.toContain(password);
    expect(await onHost('vagrant1', "docker inspect -f '{{.State.Running}}' weave")).toBe('true');
    // Each knows the other by its own address on the machines' network, once both are members.
    expect(await targets('vagrant1')).toEqual([address.vagrant2]);
    expect(await targets('vagrant2')).toEqual([address.vagrant1]);
  });

  it('a second setup changes nothing', async () => {
    const summary = JSON.parse((await run(['setup', 'all', '--json'])).stdout) as Summary;
    for (const host of summary.hosts) expect(host.steps.find((step) => step.step === 'overlay')?.outcome).toBe('unchanged');
  });

  it('pcc peers reads both members as up from weave status', async () => {
    const result = await run(['peers', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const peers = JSON.parse(result.stdout) as PeerStatus[];
    expect(peers.map((peer) => [peer.host, peer.state])).toEqual([['vagrant1', 'up'], ['vagrant2', 'up']]);
    expect(peers.find((peer) => peer.host === 'vagrant2')?.endpoint).toBe(`${address.vagrant2}:6783`);
  });

  it('a member that is down is not up: pcc peers shows vagrant2 stale while it is saved, up once resumed', async () => {
    const peerStates = async () => (JSON.parse((await run(['peers', '--json'])).stdout) as PeerStatus[]).map((peer) => [peer.host, peer.state]);
    expect((await run(['save', 'vagrant2'])).exitCode).toBe(0);
    // vagrant1 keeps retrying the connection Weave cannot make.
    expect(await peerStates()).toEqual([['vagrant1', 'up'], ['vagrant2', 'stale']]);
    expect((await run(['resume', 'vagrant2'])).exitCode).toBe(0);
    expect(await peerStates()).toEqual([['vagrant1', 'up'], ['vagrant2', 'up']]);
  }, 240_000);

  it('destroying vagrant2 makes vagrant1 forget it, without relaunching its router', async () => {
    const launchesBefore = (await weaveLog('vagrant1')).split('\n').filter((line) => line.startsWith('launch ')).length;
    const destroyed = await run(['destroy', 'vagrant2', '--yes']);
    expect(destroyed.exitCode, destroyed.stderr).toBe(0);
    const log = await weaveLog('vagrant1');
    expect(log).toContain(`forget ${address.vagrant2} password=`);
    expect(log.split('\n').filter((line) => line.startsWith('launch ')).length).toBe(launchesBefore);
    expect(await targets('vagrant1')).toEqual([]);
  });

  it('WEAVE_PASSWORD is nowhere in pcc state, logs or output', () => {
    for (const file of [...filesUnder(path.join(project.root, '.pcc')), ...filesUnder(privateDirOf(project))]) expect(readFileSync(file, 'utf8'), file).not.toContain(password);
    expect(printed.join('\n')).not.toContain(password);
  });
});
