import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFleetProject, pcc, privateDirOf, projectContainers, removeProjectContainers, type FleetProject } from '../helpers/pcc.js';

const USER_CONFIG = [
  '# personal settings',
  'Include ~/.ssh/work.conf',
  '',
  'Host github.com',
  '  User git',
  '',
  'Match host *.lab exec "true"',
  '  ForwardAgent no',
  '',
  'Host *',
  '  ServerAliveInterval 30',
  '',
].join('\n');

interface StatusHost {
  name: string;
  provider: string;
  groups: string[];
  state: string;
  address?: string;
}

async function status(project: FleetProject): Promise<StatusHost[]> {
  const result = await pcc(project, ['status', '--json']);
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as StatusHost[];
}

/** The system ssh client through the generated config (ssh reads ~ from passwd, so -F names HOME's file). */
function systemSsh(project: FleetProject, alias: string, command: string) {
  return execa('ssh', ['-F', path.join(project.home, '.ssh', 'config'), '-o', 'BatchMode=yes', alias, command], {
    reject: false,
    stdin: 'ignore',
    env: { ...process.env, HOME: project.home },
  });
}

describe('Vagrant host lifecycle on the fleet', () => {
  const project = makeFleetProject('life');
  const userConfig = path.join(project.home, '.ssh', 'config');
  /** pcc's alias file, named after the project's identity. */
  const aliasFile = () => path.join(project.home, '.ssh', 'config.d', `pcc-${readFileSync(path.join(project.root, '.pcc', 'project-id'), 'utf8').trim()}`);

  beforeAll(() => writeFileSync(userConfig, USER_CONFIG, { mode: 0o600 }));
  afterAll(async () => {
    await pcc(project, ['destroy', 'all', '--yes']);
    await removeProjectContainers(project);
  });

  it('brings up two machines that status shows running with groups and addresses', async () => {
    const up = await pcc(project, ['up', 'vagrant', '--count', '2', '--json']);
    expect(up.exitCode, up.stderr).toBe(0);
    expect((JSON.parse(up.stdout) as StatusHost[]).map((h) => h.name)).toEqual(['vagrant1', 'vagrant2']);
    const hosts = await status(project);
    expect(hosts.map((h) => [h.name, h.provider, h.state, h.groups])).toEqual([
      ['vagrant1', 'vagrant', 'running', ['vagrant', 'cpu']],
      ['vagrant2', 'vagrant', 'running', ['vagrant', 'cpu']],
    ]);
    for (const host of hosts) expect(host.address).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it("reaches them with the system ssh client through the generated aliases and pcc's pinned keys", async () => {
    const first = await systemSsh(project, 'cpu-vagrant1', 'true');
    expect(first.exitCode, first.stderr).toBe(0);
    const second = await systemSsh(project, 'vagrant2', 'hostname');
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stdout.trim()).toBe('vagrant2');
    const known = readFileSync(path.join(privateDirOf(project), 'known_hosts'), 'utf8');
    expect(known).toMatch(/^vagrant1 \S+ \S+$/m);
    expect(known).toMatch(/^vagrant2 \S+ \S+$/m);
  });

  it("changes the user's ~/.ssh/config by one Include line only", () => {
    const after = readFileSync(userConfig, 'utf8');
    expect(after).toBe(`Include ${path.join(project.home, '.ssh', 'config.d', 'pcc-*')}\n${USER_CONFIG}`);
  });

  it("keeps each host's log of the provider's output", async () => {
    const logs = await pcc(project, ['logs', 'vagrant1']);
    expect(logs.exitCode, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/Machine booted and ready!/);
    expect(logs.stdout).not.toMatch(/vagrant2/);
  });

  it('adopts machines the provider has when state.json was lost', async () => {
    rmSync(path.join(privateDirOf(project), 'state.json'));
    const result = await pcc(project, ['status', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/vagrant1: adopted/);
    const hosts = JSON.parse(result.stdout) as StatusHost[];
    expect(hosts.map((h) => [h.name, h.state])).toEqual([
      ['vagrant1', 'running'],
      ['vagrant2', 'running'],
    ]);
    for (const host of hosts) expect(host.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const again = await systemSsh(project, 'cpu-vagrant2', 'true');
    expect(again.exitCode, again.stderr).toBe(0);
  });

  it('saves a machine (halt on the docker backend) and resumes it', async () => {
    const saved = await pcc(project, ['save', 'vagrant1']);
    expect(saved.exitCode, saved.stderr).toBe(0);
    expect((await status(project)).map((h) => [h.name, h.state])).toEqual([
      ['vagrant1', 'stopped'],
      ['vagrant2', 'running'],
    ]);
    expect(readFileSync(aliasFile(), 'utf8')).toContain('Host vagrant1 ');

    const resumed = await pcc(project, ['resume', 'vagrant1']);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect((await status(project)).map((h) => h.state)).toEqual(['running', 'running']);
    const back = await systemSsh(project, 'vagrant-vagrant1', 'systemctl is-system-running --wait');
    expect(back.stdout.trim()).toBe('running');
  });

  it("carries on with a project an earlier pcc kept in .pcc/: its records, pins and Vagrant's files move out of the folder", async () => {
    // The layout before the private state: everything in the project's .pcc/.
    const earlier = path.join(project.root, '.pcc');
    for (const entry of ['state.json', 'known_hosts', 'vagrant']) renameSync(path.join(privateDirOf(project), entry), path.join(earlier, entry));
    const result = await pcc(project, ['status', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/adopted/);
    expect((JSON.parse(result.stdout) as StatusHost[]).map((h) => [h.name, h.state])).toEqual([['vagrant1', 'running'], ['vagrant2', 'running']]);
    for (const entry of ['state.json', 'known_hosts', 'vagrant']) {
      expect(existsSync(path.join(earlier, entry)), entry).toBe(false);
      expect(existsSync(path.join(privateDirOf(project), entry)), entry).toBe(true);
    }
    // Vagrant knows its machines in their new place, and the pinned keys still hold.
    const vagrant = await execa('vagrant', ['status', '--machine-readable'], { cwd: path.join(privateDirOf(project), 'vagrant'), env: project.env, reject: false });
    expect(vagrant.stdout).toMatch(/vagrant1,state,running/);
    expect((await systemSsh(project, 'vagrant1', 'true')).exitCode).toBe(0);
  });

  it('refuses destroy without --yes, then destroys and leaves nothing behind', async () => {
    const refused = await pcc(project, ['destroy', 'vagrant']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('without --yes');
    expect(await projectContainers(project)).toHaveLength(2);

    const destroyed = await pcc(project, ['destroy', 'vagrant', '--yes']);
    expect(destroyed.exitCode, destroyed.stderr).toBe(0);
    expect(await status(project)).toEqual([]);
    expect(existsSync(aliasFile())).toBe(false);
    expect(readFileSync(path.join(privateDirOf(project), 'known_hosts'), 'utf8')).toBe('');
    expect(JSON.parse(readFileSync(path.join(privateDirOf(project), 'state.json'), 'utf8'))).toEqual({ schemaVersion: 1, hosts: {} });
    expect(await projectContainers(project)).toEqual([]);
    const vagrant = await execa('vagrant', ['status', '--machine-readable'], { cwd: path.join(privateDirOf(project), 'vagrant'), reject: false });
    // With no machine defined, Vagrant reports its implicit `default` (where a provider such as vagrant-libvirt is installed).
    expect(vagrant.stdout).not.toMatch(/,(init|vagrant\d+),state,/);
    expect(readFileSync(userConfig, 'utf8')).toBe(`Include ${path.join(project.home, '.ssh', 'config.d', 'pcc-*')}\n${USER_CONFIG}`);
  });
});
