import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { createEngine } from '../../src/engine/engine.js';
import { sshTarget } from '../../src/engine/ssh/pool.js';
import { HostKeyMismatchError } from '../../src/engine/ssh/known-hosts.js';
import { machineContainerArgs } from '../../src/providers/vagrant/machine-container.js';
import { fleetImage } from '../helpers/fleet.js';
import { makeFleetProject, pcc, removeProjectContainers } from '../helpers/pcc.js';

describe('pinned host keys', () => {
  const project = makeFleetProject('keys');
  afterAll(async () => {
    await pcc(project, ['destroy', 'all', '--yes']);
    await removeProjectContainers(project);
  });

  it('refuses a machine whose key changed behind pcc (container replaced, same address) and runs nothing on it', async () => {
    const up = await pcc(project, ['up', 'vagrant', '--count', '1']);
    expect(up.exitCode, up.stderr).toBe(0);
    const container = `pcc-${project.name}-vagrant1`;
    const port = (await execa('docker', ['port', container, '22'])).stdout.trim().split('\n')[0] ?? '';
    expect(port).toMatch(/^127\.0\.0\.1:\d+$/);

    // Replace the machine outside pcc: a new container (new host keys) at the same address.
    await execa('docker', ['rm', '-f', container]);
    await execa('docker', ['run', '-d', '--name', container, '--label', `pcc.project=${project.name}`, '-p', `${port}:22`, ...machineContainerArgs(), fleetImage()]);
    await execa('docker', ['exec', container, 'sh', '-c', 'until systemctl is-active -q ssh; do sleep 0.2; done']);

    const engine = createEngine(loadConfig(project.root, project.env), { env: project.env, home: project.home });
    const host = engine.state.read().hosts.vagrant1;
    expect(host).toBeDefined();
    const attempt = engine.ssh.exec(sshTarget(host!), 'touch /tmp/pcc-ran');
    await expect(attempt).rejects.toBeInstanceOf(HostKeyMismatchError);
    await expect(attempt).rejects.toThrow(/host key of vagrant1 has changed.*nothing was run on it/);
    engine.ssh.closeAll();

    const systemSsh = await execa('ssh', ['-F', path.join(project.home, '.ssh', 'config'), '-o', 'BatchMode=yes', 'cpu-vagrant1', 'touch /tmp/pcc-ran'], { reject: false, stdin: 'ignore' });
    expect(systemSsh.exitCode).toBe(255);
    expect(systemSsh.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);

    const ran = await execa('docker', ['exec', container, 'test', '-e', '/tmp/pcc-ran'], { reject: false });
    expect(ran.exitCode).toBe(1);
  });

  it('gives a machine that pcc itself re-creates a new pin', async () => {
    await removeProjectContainers(project);
    const destroyed = await pcc(project, ['destroy', 'vagrant1', '--yes']);
    expect(destroyed.exitCode, destroyed.stderr).toBe(0);
    const up = await pcc(project, ['up', 'vagrant', '--count', '1']);
    expect(up.exitCode, up.stderr).toBe(0);
    const ssh = await execa('ssh', ['-F', path.join(project.home, '.ssh', 'config'), '-o', 'BatchMode=yes', 'vagrant1', 'hostname'], { reject: false, stdin: 'ignore' });
    expect(ssh.exitCode, ssh.stderr).toBe(0);
    expect(ssh.stdout.trim()).toBe('vagrant1');
  });
});
