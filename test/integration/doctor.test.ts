import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { runDoctor } from '../../src/engine/doctor.js';
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
});
