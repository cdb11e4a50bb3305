import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFleetProject, pcc, removeProjectContainers } from '../helpers/pcc.js';

interface StatusHost { name: string; state: string; selfStop: { reason: string; at: string } | null }
interface Summary { hosts: { host: string; steps: { step: string; outcome: string; changes: string[] }[] }[] }

/** Minutes of 3 seconds: an idle host stops after 9 s without use (IDLE_STOP_MINUTE_SECONDS is made for this). */
const IDLE = 'IDLE_STOP_MINUTES=3\nIDLE_STOP_MINUTE_SECONDS=3\n';

describe('idle stop, decided on the host', () => {
  const project = makeFleetProject('idle');
  const container = (host: string) => `pcc-${project.name}-${host}`;
  const onHost = async (host: string, command: string) => (await execa('docker', ['exec', container(host), 'bash', '-c', command])).stdout.trim();
  const ssh = (host: string, command: string): ResultPromise =>
    execa('ssh', ['-F', path.join(project.home, '.ssh', 'config'), '-o', 'BatchMode=yes', host, command], { reject: false, stdin: 'ignore' });
  const status = async () => JSON.parse((await pcc(project, ['status', '--json'])).stdout) as StatusHost[];
  const stepOutcome = (summary: Summary, host: string) => summary.hosts.find((h) => h.host === host)?.steps.find((s) => s.step === 'idle-stop');
  let session: ResultPromise | undefined;

  beforeAll(async () => {
    writeFileSync(path.join(project.root, 'config', 'hosts', 'compute.env'), IDLE);
    const up = await pcc(project, ['up', 'vagrant', '--count', '3']);
    expect(up.exitCode, up.stderr).toBe(0);
  });
  afterAll(async () => {
    session?.kill();
    await pcc(project, ['destroy', 'all', '--yes']);
    await removeProjectContainers(project);
  });

  it('setup installs the timer on each host; a second run changes nothing', async () => {
    // vagrant3 is kept busy by an SSH session while it gets a container to run.
    const first = JSON.parse((await pcc(project, ['setup', 'vagrant', '--json'])).stdout) as Summary;
    for (const host of ['vagrant1', 'vagrant2', 'vagrant3']) {
      expect(stepOutcome(first, host), host).toMatchObject({ outcome: 'changed', changes: [expect.stringContaining('power off after 3 min')] });
    }
    session = ssh('vagrant3', 'sleep 60');
    // The fleet's busybox, copied from this machine's engine.
    await execa('bash', ['-c', `docker save busybox:stable | docker exec -i ${container('vagrant3')} docker load -q >/dev/null`]);
    await onHost('vagrant3', 'docker run -d --name work busybox:stable sleep 600 >/dev/null');
    session.kill();
    // vagrant2 is in use over SSH for the whole test.
    session = ssh('vagrant2', 'sleep 120');

    const again = JSON.parse((await pcc(project, ['setup', 'vagrant2', '--json'])).stdout) as Summary;
    expect(stepOutcome(again, 'vagrant2')).toMatchObject({ outcome: 'unchanged' });
    expect(await onHost('vagrant2', 'systemctl is-active pcc-idle-stop.timer')).toBe('active');
  });

  it('a host with nothing running powers itself off, and pcc then shows why; an SSH session and a running container keep theirs up', async () => {
    let hosts: StatusHost[] = [];
    for (let tries = 0; tries < 60; tries++) {
      hosts = await status();
      if (hosts.find((host) => host.name === 'vagrant1')?.state === 'stopped') break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(hosts.find((host) => host.name === 'vagrant1')).toMatchObject({ state: 'stopped', selfStop: { reason: 'idle 3 min', at: expect.stringMatching(/^\d{4}-/) } });
    const table = await pcc(project, ['status']);
    expect(table.stdout).toMatch(/vagrant1\s+vagrant\s+stopped \(idle 3 min\)/);
    // Longer than the idle time again: the other two are still up.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    expect((await status()).filter((host) => host.name !== 'vagrant1').map((host) => [host.name, host.state])).toEqual([['vagrant2', 'running'], ['vagrant3', 'running']]);
    expect(await onHost('vagrant3', "docker ps --format '{{.Names}}'")).toBe('work');
  });

  it('resumed, the reason is gone; with IDLE_STOP_MINUTES unset, setup removes the timer', async () => {
    expect((await pcc(project, ['resume', 'vagrant1'])).exitCode).toBe(0);
    expect((await status()).find((host) => host.name === 'vagrant1')).toMatchObject({ state: 'running', selfStop: null });
    writeFileSync(path.join(project.root, 'config', 'hosts', 'compute.env'), '');
    const off = JSON.parse((await pcc(project, ['setup', 'vagrant2', '--json'])).stdout) as Summary;
    expect(stepOutcome(off, 'vagrant2')).toMatchObject({ outcome: 'changed', changes: ['remove the idle stop timer (IDLE_STOP_MINUTES is unset)'] });
    expect(await onHost('vagrant2', 'systemctl is-enabled pcc-idle-stop.timer 2>&1 || true; ls /usr/local/lib/pcc/idle-stop 2>&1 || true')).toMatch(/No such file/);
  });
});
