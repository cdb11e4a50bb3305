import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { runDoctor } from '../../src/engine/doctor.js';
import { StateStore } from '../../src/engine/state.js';
import { makeProject, tempDir } from '../helpers/project.js';

describe('pcc doctor on the fleet', () => {
  it('passes with the docker backend when the fleet engine answers', async () => {
    const root = makeProject({ 'project.env': `VAGRANT_PROVIDER=docker\nVAGRANT_DOCKER_IMAGE=${process.env.VAGRANT_DOCKER_IMAGE}\n` });
    const report = await runDoctor(loadConfig(root, { HOME: tempDir('pcc-home-') }), process.env);
    const byId = Object.fromEntries(report.checks.map((check) => [check.id, check]));
    expect(byId.docker).toMatchObject({ status: 'ok', required: true });
    expect(byId.docker?.detail).toContain(process.env.DOCKER_HOST);
    expect(byId.vagrant).toMatchObject({ status: 'ok', required: true });
    expect(byId['ssh-client']).toMatchObject({ status: 'ok' });
    expect(report.ok).toBe(true);
  });

  it("on VirtualBox with NFS synced folders, says that this machine needs an NFS server and how to do without", async () => {
    const root = makeProject({ 'project.env': 'VAGRANT_PROVIDER=virtualbox\n' });
    const report = await runDoctor(loadConfig(root, { HOME: tempDir('pcc-home-') }), process.env);
    const nfs = report.checks.find((check) => check.id === 'nfs-server');
    // The fleet's machine has no NFS server (its kernel cannot run one).
    expect(nfs).toMatchObject({ status: 'fail', required: true, fix: expect.stringContaining('VAGRANT_SYNCED_FOLDER_TYPE=rsync') });
    expect(report.ok).toBe(false);

    const rsync = makeProject({ 'project.env': 'VAGRANT_PROVIDER=virtualbox\nVAGRANT_SYNCED_FOLDER_TYPE=rsync\n' });
    const without = await runDoctor(loadConfig(rsync, {}), process.env);
    expect(without.checks.find((check) => check.id === 'nfs-server')).toMatchObject({ status: 'ok', required: false });
  });

  it('warns about compute hosts that run with idle stop off, and names the setting that fixes it', async () => {
    const root = makeProject({ 'project.env': `VAGRANT_PROVIDER=docker\nVAGRANT_DOCKER_IMAGE=${process.env.VAGRANT_DOCKER_IMAGE}\n` });
    const env = { HOME: tempDir('pcc-home-') };
    const config = loadConfig(root, env);
    await new StateStore(config.privateDir).update((state) => {
      state.hosts.vagrant1 = {
        name: 'vagrant1', provider: 'vagrant', role: 'compute', computeType: 'cpu', state: 'running', extras: {},
        ssh: { host: '127.0.0.1', port: 2222, user: 'vagrant', identityFile: '/dev/null' }, createdAt: '', updatedAt: '',
      };
    });
    const idleStop = async (project: string) => (await runDoctor(loadConfig(project, env), process.env)).checks.find((check) => check.id === 'idle-stop');
    expect(await idleStop(root)).toMatchObject({ status: 'warn', detail: expect.stringContaining('vagrant1 runs'), fix: expect.stringContaining('IDLE_STOP_MINUTES') });

    writeFileSync(path.join(root, 'config', 'hosts', 'compute.env'), 'IDLE_STOP_MINUTES=45\n');
    expect(await idleStop(root)).toMatchObject({ status: 'ok', detail: expect.stringContaining('45 min') });
  });

  it('warns about hosts saved as images longer ago than SAVED_IMAGE_WARN_DAYS, with what they bill a month', async () => {
    const root = makeProject({ 'project.env': `VAGRANT_PROVIDER=docker\nVAGRANT_DOCKER_IMAGE=${process.env.VAGRANT_DOCKER_IMAGE}\n` });
    const env = { HOME: tempDir('pcc-home-') };
    const daysAgo = (days: number) => new Date(Date.now() - days * 24 * 3600_000).toISOString();
    await new StateStore(loadConfig(root, env).privateDir).update((state) => {
      for (const [name, days] of [['i-0old', 45], ['i-0new', 3]] as const) {
        state.hosts[name] = {
          name, provider: 'ec2', role: 'compute', computeType: 'gpu', state: 'saved', extras: {}, createdAt: '', updatedAt: '',
          billing: { instanceType: 'g5.xlarge', spot: false, savedAt: daysAgo(days), storage: [{ kind: 'snapshot', gb: 100 }] },
        };
      }
    });
    const images = async () => (await runDoctor(loadConfig(root, env), process.env)).checks.find((check) => check.id === 'saved-images');
    const warned = await images();
    expect(warned).toMatchObject({ status: 'warn', detail: expect.stringContaining('i-0old saved as an image 45 days ago ($5.00/month)'), fix: expect.stringContaining('pcc images rm') });
    expect(warned?.detail).not.toContain('i-0new');

    writeFileSync(path.join(root, 'config', 'project.env'), `VAGRANT_PROVIDER=docker\nVAGRANT_DOCKER_IMAGE=${process.env.VAGRANT_DOCKER_IMAGE}\nSAVED_IMAGE_WARN_DAYS=60\n`);
    expect(await images()).toMatchObject({ status: 'ok' });
  });
});
