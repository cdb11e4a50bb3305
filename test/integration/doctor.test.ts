import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/engine/config/load.js';
import { runDoctor } from '../../src/engine/doctor.js';
import { makeProject } from '../helpers/project.js';

describe('pcc doctor on the fleet', () => {
  it('passes with the docker backend when the fleet engine answers', async () => {
    const root = makeProject({ 'project.env': `VAGRANT_PROVIDER=docker\nVAGRANT_DOCKER_IMAGE=${process.env.VAGRANT_DOCKER_IMAGE}\n` });
    const report = await runDoctor(loadConfig(root, {}), process.env);
    const byId = Object.fromEntries(report.checks.map((check) => [check.id, check]));
    expect(byId.docker).toMatchObject({ status: 'ok', required: true });
    expect(byId.docker?.detail).toContain(process.env.DOCKER_HOST);
    expect(byId.vagrant).toMatchObject({ status: 'ok', required: true });
    expect(byId['ssh-client']).toMatchObject({ status: 'ok' });
    expect(report.ok).toBe(true);
  });
});
