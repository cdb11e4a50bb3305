import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { loadConfig } from '../../src/core/config/load.js';
import { makeProject } from '../helpers/project.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function pcc(root: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(args, { stdout, stderr, env, cwd: root, interactive: false });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const settingsFile = (root: string) => path.join(root, '.pcc', 'settings.env');

describe('settings this machine remembers for a project', () => {
  it('set remembers the docker backend for every later command, with nothing in the environment', async () => {
    const root = makeProject();
    const set = await pcc(root, ['settings', 'set', 'VAGRANT_PROVIDER=docker', 'VAGRANT_DOCKER_IMAGE=pcc-fleet-host:abc', 'DOCKER_HOST=unix:///run/pcc-test/docker.sock']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('VAGRANT_PROVIDER=docker  (.pcc/settings.env:');
    expect(statSync(settingsFile(root)).mode & 0o777).toBe(0o600);

    const config = loadConfig(root, {});
    expect(config.vagrant.backend).toBe('docker');
    expect(config.vagrant.dockerImage).toBe('pcc-fleet-host:abc');
    expect(config.dockerHost).toBe('unix:///run/pcc-test/docker.sock');
    expect(config.sources.VAGRANT_PROVIDER).toEqual({ kind: 'file', file: '.pcc/settings.env', line: 2 });
  });

  it('the environment wins over a remembered setting, and the project files lose to it', async () => {
    const root = makeProject({ 'project.env': 'VAGRANT_PROVIDER=virtualbox\nVARLIBDOCKER_GB=7\n' });
    expect((await pcc(root, ['settings', 'set', 'VARLIBDOCKER_GB=12'])).code).toBe(0);
    expect(loadConfig(root, {}).varLibDocker.gb).toBe(12);
    expect(loadConfig(root, { VARLIBDOCKER_GB: '20' }).varLibDocker.gb).toBe(20);
    const listed = await pcc(root, ['settings', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual(
      expect.arrayContaining([
        { key: 'VARLIBDOCKER_GB', value: '12', from: '.pcc/settings.env:2' },
        { key: 'VAGRANT_PROVIDER', value: 'virtualbox', from: 'config/project.env:1' },
      ]),
    );
  });

  it('refuses a change that leaves the configuration invalid, and writes nothing', async () => {
    const root = makeProject();
    const alone = await pcc(root, ['settings', 'set', 'VAGRANT_PROVIDER=docker']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('VAGRANT_PROVIDER=docker needs VAGRANT_DOCKER_IMAGE');
    expect(existsSync(settingsFile(root))).toBe(false);

    expect((await pcc(root, ['settings', 'set', 'VARLIBDOCKER_GB=12'])).code).toBe(0);
    const before = readFileSync(settingsFile(root), 'utf8');
    const bad = await pcc(root, ['settings', 'set', 'VARLIBDOCKER_GB=lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('VARLIBDOCKER_GB="lots": expected');
    const unknown = await pcc(root, ['settings', 'set', 'VAGRANT_PROVDER=docker']);
    expect(unknown.stderr).toContain('Did you mean VAGRANT_PROVIDER?');
    expect(readFileSync(settingsFile(root), 'utf8')).toBe(before);
  });

  it('never remembers a secret', async () => {
    const root = makeProject();
    const refused = await pcc(root, ['settings', 'set', 'AWS_SECRET_ACCESS_KEY=abc123']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('AWS_SECRET_ACCESS_KEY is a secret and is not remembered here');
    expect(refused.stderr + refused.stdout).not.toContain('abc123');
    expect(existsSync(settingsFile(root))).toBe(false);
  });

  it('a settings file edited by hand is checked like any config file', async () => {
    const root = makeProject();
    await pcc(root, ['settings', 'set', 'VARLIBDOCKER_GB=12']);
    writeFileSync(settingsFile(root), 'VARLIBDOCKER_GB=12\nAWS_ACCESS_KEY_ID=AKIAX\n');
    expect(() => loadConfig(root, {})).toThrow(/\.pcc\/settings\.env:2: AWS_ACCESS_KEY_ID is a secret/);
  });

  it('unset forgets a setting; the last one removes the file', async () => {
    const root = makeProject();
    await pcc(root, ['settings', 'set', 'VARLIBDOCKER_GB=12', 'VAGRANT_CPUS=4']);
    expect((await pcc(root, ['settings', 'unset', 'VARLIBDOCKER_GB'])).code).toBe(0);
    expect(readFileSync(settingsFile(root), 'utf8')).not.toContain('VARLIBDOCKER_GB');
    expect((await pcc(root, ['settings', 'unset', 'VAGRANT_CPUS'])).code).toBe(0);
    expect(existsSync(settingsFile(root))).toBe(false);
  });

  it('keeps a value with spaces and # exactly (quoted in the file)', async () => {
    const root = makeProject();
    expect((await pcc(root, ['settings', 'set', 'PROJECT_DIR=my data #1'])).code).toBe(0);
    expect(readFileSync(settingsFile(root), 'utf8')).toContain("PROJECT_DIR='my data #1'");
    expect(loadConfig(root, {}).project.shareDir).toBe(path.join(root, 'my data #1'));
  });
});
