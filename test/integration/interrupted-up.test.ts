import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { PCC_BIN, makeFleetProject, pcc, projectContainers, removeProjectContainers } from '../helpers/pcc.js';

describe('pcc killed in the middle of up', () => {
  const project = makeFleetProject('kill');
  afterAll(async () => {
    await pcc(project, ['destroy', 'all', '--yes']);
    await removeProjectContainers(project);
  });

  it('leaves every machine that exists visible to pcc status', async () => {
    // Its own process group, so the kill takes Vagrant down with it, as a closed terminal would.
    const up = execa('node', [PCC_BIN, 'up', 'vagrant', '--count', '2'], {
      cwd: project.root,
      env: project.env,
      extendEnv: false,
      detached: true,
      reject: false,
      stdin: 'ignore',
    });
    const deadline = Date.now() + 90_000;
    while ((await projectContainers(project)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    process.kill(-(up.pid as number), 'SIGKILL');
    const killed = await up;
    expect(killed.signal).toBe('SIGKILL');

    const existing = await projectContainers(project);
    expect(existing.length).toBeGreaterThan(0);
    const status = await pcc(project, ['status', '--json']);
    expect(status.exitCode, status.stderr).toBe(0);
    const hosts = JSON.parse(status.stdout) as { name: string; state: string; address: string | null }[];
    const shown = hosts.map((host) => `pcc-${project.name}-${host.name}`);
    for (const container of existing) expect(shown).toContain(container);
    // A machine that runs is reachable: its address is looked up again, and it has its SSH entry.
    const sshConfig = (await pcc(project, ['ssh-config'])).stdout;
    for (const host of hosts.filter((entry) => entry.state === 'running')) {
      expect(host.address, host.name).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(sshConfig).toContain(`Host ${host.name} `);
    }

    const cleanup = await pcc(project, ['destroy', 'all', '--yes']);
    expect(cleanup.exitCode, cleanup.stderr).toBe(0);
  });
});
