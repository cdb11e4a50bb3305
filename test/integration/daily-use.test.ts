import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa, execaSync } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VagrantProvider } from '../../src/providers/vagrant/vagrant-provider.js';
import { loadConfig } from '../../src/core/config/load.js';
import { machineStates, parseMachineReadable } from '../../src/providers/vagrant/machine-readable.js';
import { makeFleetProject, pcc, privateDirOf, removeProjectContainers } from '../helpers/pcc.js';
import { tempDir } from '../helpers/project.js';

interface StatusHost {
  name: string;
  state: string;
  setup: { ok: boolean; failures: { step: string; message: string }[] } | null;
}

/**
 * What a new user does after the README's quick start, in a fresh clone of this repository: the next
 * command in a new shell with nothing exported, and a freshly opened terminal UI.
 */
describe('from the quick start to daily use, as a new user', () => {
  const base = tempDir('pcc-newuser-');
  // The clone's folder name is the project's name: unique, so it shares nothing with other tests.
  const name = `nu${Math.random().toString(36).slice(2, 7)}`;
  const clone = path.join(base, name);
  const prefix = path.join(base, 'npm-global');
  const home = path.join(base, 'home');
  const PATH = `${path.join(prefix, 'bin')}:${process.env.PATH}`;
  /** A new login shell: PATH (with the linked pcc) and HOME, nothing else. */
  const newShell = { PATH, HOME: home };
  const typed = (args: string[]) => execa('pcc', args, { cwd: clone, env: newShell, extendEnv: false, reject: false, stdin: 'ignore' });

  beforeAll(() => {
    // A fresh clone: the tracked and new files of this checkout, with its installed node_modules.
    const { stdout } = execaSync('git', ['ls-files', '-co', '--exclude-standard']);
    for (const file of stdout.split('\n').filter(Boolean)) {
      mkdirSync(path.dirname(path.join(clone, file)), { recursive: true });
      cpSync(file, path.join(clone, file));
    }
    // The quick start runs npm ci when the stamp differs from package-lock.json, which through this link
    // would empty this checkout's node_modules: refuse to start from one not installed from the lock file.
    const stampFile = path.resolve('node_modules', '.pcc-lock-hash');
    const stamp = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : '';
    const lock = createHash('sha256').update(readFileSync('package-lock.json')).digest('hex');
    if (stamp !== lock) throw new Error('node_modules was not installed from package-lock.json by scripts/lib.sh: run `bash scripts/test.sh` (or npm ci, then write the stamp) first');
    symlinkSync(path.resolve('node_modules'), path.join(clone, 'node_modules'));
    mkdirSync(home, { recursive: true });
  });
  afterAll(async () => {
    await typed(['destroy', 'all', '--yes']);
    await removeProjectContainers({ root: clone, name, home, env: newShell });
  });

  it('the quick start brings init up, builds the example image and remembers the fleet for the project', async () => {
    // No terminal, no settings exported: the quick start finds the fleet itself. npm links pcc into a prefix of the test's own.
    const run = await execa('bash', ['scripts/quickstart.sh'], {
      cwd: clone,
      env: { ...newShell, npm_config_prefix: prefix, CI: 'true' },
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      all: true,
    });
    expect(run.exitCode, run.all).toBe(0);
    expect(run.all).toContain("remembering this machine's settings for the project");
    expect(run.all).toMatch(/^mybusybox:latest\s+[\d.]+ MB/m);
  }, 900_000);

  it('in a new shell with nothing exported, pcc status answers and shows init running and set up', async () => {
    const status = await typed(['status', '--json']);
    expect(status.exitCode, status.stderr).toBe(0);
    const hosts = JSON.parse(status.stdout) as StatusHost[];
    expect(hosts.map((host) => [host.name, host.state, host.setup?.ok])).toEqual([['init', 'running', true]]);
    const text = await typed(['status']);
    expect(text.stdout).toMatch(/^init\s+vagrant\s+running\s+\S+\s+\S+\s+ok \d+ (s|min) ago$/m);
  });

  it('pcc doctor says where each setting comes from', async () => {
    const doctor = await typed(['doctor']);
    expect(doctor.exitCode, doctor.stdout).toBe(0);
    expect(doctor.stdout).toMatch(/VAGRANT_PROVIDER=docker {2}\(\.pcc\/settings\.env:\d+\)/);
    expect(doctor.stdout).toMatch(/DOCKER_HOST=unix:\/\/\S+ {2}\(\.pcc\/settings\.env:\d+\)/);
  });

  it('a freshly opened pcc shows init as set up and the last build, not "not set up" and "no builds yet"', async () => {
    const socket = `pcc-${name}`;
    const tmux = (...args: string[]) => execa('tmux', ['-L', socket, ...args], { env: { ...newShell, TERM: 'xterm-256color' }, extendEnv: false, stdin: 'ignore' });
    try {
      await tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'ui', '-x', '160', '-y', '48', `cd ${clone} && env -i PATH=${PATH} HOME=${home} TERM=xterm-256color pcc`);
      const deadline = Date.now() + 60_000;
      let screen = '';
      while (Date.now() < deadline) {
        screen = (await tmux('capture-pane', '-p', '-t', 'ui')).stdout;
        if (/init\s.*✓ done/.test(screen) && /mybusybox\s+(done|unchanged)/.test(screen)) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(screen).toMatch(/init\s.*✓ done · \d+ (s|min) ago/);
      expect(screen).toMatch(/Builds · last run \d+ (s|min) ago/);
      expect(screen).toMatch(/mybusybox\s+(done|unchanged)/);
      expect(screen).not.toContain('not set up');
      expect(screen).not.toContain('no builds yet');
    } finally {
      await tmux('kill-server').catch(() => undefined);
    }
  }, 120_000);
});

describe('commands that answer at once', () => {
  const project = makeFleetProject('fast');
  afterAll(async () => {
    await pcc(project, ['destroy', 'all', '--yes']);
    await removeProjectContainers(project);
  });

  it('reads machine states from the backend as vagrant status reports them: running, stopped, removed behind pcc', async () => {
    const up = await pcc(project, ['up', 'vagrant', '--count', '3']);
    expect(up.exitCode, up.stderr).toBe(0);
    await execa('vagrant', ['halt', 'vagrant2'], { cwd: path.join(privateDirOf(project), 'vagrant'), env: project.env, extendEnv: false });
    const { stdout: gone } = await execa('docker', ['ps', '-aq', '--filter', `label=pcc.project=${project.name}`, '--filter', 'label=pcc.machine=vagrant3']);
    await execa('docker', ['rm', '-f', gone.trim()]);

    const provider = new VagrantProvider(loadConfig(project.root, project.env), project.env);
    const direct = new Map((await provider.list()).map((machine) => [machine.name, machine.state]));
    const vagrant = await execa('vagrant', ['status', '--machine-readable'], { cwd: provider.dir, env: project.env, extendEnv: false });
    const reported = machineStates(parseMachineReadable(vagrant.stdout));
    expect([...direct]).toEqual([['vagrant1', 'running'], ['vagrant2', 'stopped'], ['vagrant3', 'not-created']]);
    expect([...reported].sort()).toEqual([['vagrant1', 'running'], ['vagrant2', 'stopped'], ['vagrant3', 'not_created']]);

    const status = await pcc(project, ['status', '--json']);
    expect((JSON.parse(status.stdout) as StatusHost[]).map((host) => [host.name, host.state])).toEqual([
      ['vagrant1', 'running'],
      ['vagrant2', 'stopped'],
      ['vagrant3', 'gone'],
    ]);
  }, 300_000);

  it('pcc status starts no vagrant process', async () => {
    // A vagrant that fails loudly: status must not need it.
    const bin = tempDir('pcc-novagrant-');
    const fake = path.join(bin, 'vagrant');
    writeFileSync(fake, '#!/bin/sh\necho "vagrant was called" >&2\nexit 99\n', { mode: 0o755 });
    const env = { ...project.env, PATH: `${bin}:${process.env.PATH}` };
    const status = await execa('node', [path.resolve('dist/cli/main.js'), 'status', '--json'], { cwd: project.root, env, extendEnv: false, reject: false, stdin: 'ignore' });
    expect(status.exitCode, status.stderr).toBe(0);
    expect(status.stderr).not.toContain('vagrant was called');
    expect(JSON.parse(status.stdout)).toHaveLength(3);
  });

  it('pcc up --setup sets up what it brought up', async () => {
    const up = await pcc(project, ['up', 'vagrant', '--setup']);
    // The fleet's kernel has no NFS client: every step but /project succeeds, and up says so.
    expect(up.exitCode).toBe(1);
    expect(up.stderr).toMatch(/the machines are up, but their setup failed: vagrant\d: project-share: this host's kernel has no NFS client/);
    const hosts = JSON.parse((await pcc(project, ['status', '--json'])).stdout) as StatusHost[];
    const added = hosts.find((host) => !['vagrant1', 'vagrant2', 'vagrant3'].includes(host.name));
    expect(added?.state).toBe('running');
    expect(added?.setup?.failures.map((failure) => failure.step)).toEqual(['project-share']);
    // Tools' output stays in the host's log: mkfs.btrfs's note is there, not on the screen.
    expect(up.stderr).not.toMatch(/NOTE: several default settings/);
    expect(up.stderr).toMatch(/docker-storage changed/);
  }, 400_000);
});
