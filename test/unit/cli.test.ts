import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { makeProject } from '../helpers/project.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function pcc(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; interactive?: boolean } = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(args, {
    stdout,
    stderr,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    interactive: options.interactive ?? false,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('pcc command line', () => {
  it('--version prints the package version', async () => {
    const { code, stdout } = await pcc(['--version']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('--help lists the commands', async () => {
    const { code, stdout } = await pcc(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('pcc doctor [--json]');
    expect(stdout).toContain('--project DIR');
  });

  it('an unknown command prints usage and exits 2', async () => {
    const { code, stderr } = await pcc(['frobnicate']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command: frobnicate');
    expect(stderr).toContain('Usage:');
  });

  it('an unknown option exits 2 with a pointer to help', async () => {
    const { code, stderr } = await pcc(['doctor', '--frob']);
    expect(code).toBe(2);
    expect(stderr).toContain("Unknown option '--frob'");
  });

  it('without a terminal, pcc alone says what to run instead and exits 2', async () => {
    const { code, stderr } = await pcc([], { interactive: false });
    expect(code).toBe(2);
    expect(stderr).toContain('needs a terminal');
    expect(stderr).toContain('pcc doctor');
  });

  it('a configuration error is one line naming file:line, without a stack trace, exit 2', async () => {
    const root = makeProject({ 'project.env': 'VARLIBDOCKER_GB=ten\n' });
    const { code, stderr } = await pcc(['doctor'], { cwd: root });
    expect(code).toBe(2);
    expect(stderr).toBe('pcc: config/project.env:1: VARLIBDOCKER_GB="ten": expected a size in GiB: a whole number from 1 to 16384\n');
  });

  it('outside a project, says how to point pcc at one', async () => {
    const { code, stderr } = await pcc(['doctor'], { cwd: '/' });
    expect(code).toBe(2);
    expect(stderr).toContain('no pcc project here');
    expect(stderr).toContain('--project DIR');
  });

  it('doctor fails when the configured backend cannot work, naming the fix', async () => {
    const root = makeProject({ 'project.env': 'VAGRANT_PROVIDER=docker\nVAGRANT_DOCKER_IMAGE=machine:1\n' });
    const { code, stdout } = await pcc(['doctor', '--json'], { cwd: root, env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock', PATH: process.env.PATH } });
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as { ok: boolean; checks: { id: string; status: string; fix?: string }[] };
    expect(report.ok).toBe(false);
    const docker = report.checks.find((check) => check.id === 'docker');
    expect(docker).toMatchObject({ status: 'fail' });
    expect(docker?.fix).toContain('docker');
    expect(report.checks.find((check) => check.id === 'vagrant-virtualbox')?.status).toBe('warn');
  });

  it('checks up arguments before touching any machine', async () => {
    const root = makeProject({});
    expect((await pcc(['up', 'vagrant', '--count', 'two'], { cwd: root })).stderr).toContain('--count two: expected a whole number from 1 to 64');
    const unknown = await pcc(['up', 'openstack'], { cwd: root });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown provider: openstack');
    expect((await pcc(['up', '--type', 'tpu'], { cwd: root })).stderr).toContain('--type tpu: expected cpu or gpu');
  });

  it('refuses destroy without --yes and a pattern that matches nothing', async () => {
    const root = makeProject({});
    const refused = await pcc(['destroy', 'all'], { cwd: root });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('refusing to destroy "all" without --yes');
    const nothing = await pcc(['save', 'vagrant9'], { cwd: root });
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('pattern "vagrant9" matches no host (there are no hosts)');
  });
});
