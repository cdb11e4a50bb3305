import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { PCC_BIN } from '../helpers/pcc.js';
import { makeProject, tempDir } from '../helpers/project.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function pcc(args: string[], cwd: string) {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(args, { stdout, stderr, env: { HOME: tempDir('pcc-home-') }, cwd, interactive: false });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('EC2 on the command line', () => {
  it('help shows the EC2 flags and the images command', async () => {
    const root = makeProject({});
    const help = await pcc(['--help'], root);
    expect(help.stdout).toContain('pcc up [PROVIDER] [--count N] [--type cpu|gpu] [--instance-type T] [--spot [--relaunch]] [--setup] [--json]');
    expect(help.stdout).toContain('pcc save PATTERN [--image] [--json]');
    expect(help.stdout).toContain('pcc images [rm IMAGE...] [--json]');
  });

  it('a project without AWS settings lists no images and never asks AWS', async () => {
    const root = makeProject({});
    expect(await pcc(['images'], root)).toEqual({ code: 0, stdout: 'no saved images — pcc save PATTERN --image makes one\n', stderr: '' });
    expect(await pcc(['images', '--json'], root)).toMatchObject({ code: 0, stdout: '[]\n' });
  });

  it('the built pcc loads no AWS SDK in a project that does not use EC2', async () => {
    // A module hook that makes every @aws-sdk import fail, so loading the SDK at all fails the command.
    const hook = 'export async function resolve(specifier, context, next) { if (specifier.startsWith("@aws-sdk/")) throw new Error("loaded the AWS SDK: " + specifier); return next(specifier, context); }';
    const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
    const withoutSdk = (root: string, args: string[]) =>
      execa('node', ['--import', `data:text/javascript,${encodeURIComponent(register)}`, PCC_BIN, ...args], {
        cwd: root, env: { HOME: tempDir('pcc-home-'), PATH: process.env.PATH }, extendEnv: false, reject: false, stdin: 'ignore',
      });

    const unused = makeProject({});
    for (const args of [['status', '--json'], ['images', '--json'], ['peers', '--json'], ['destroy', 'ec2', '--yes', '--json']]) {
      const run = await withoutSdk(unused, args);
      expect({ args, exitCode: run.exitCode, stderr: run.stderr }).toEqual({ args, exitCode: 0, stderr: expect.not.stringContaining('AWS SDK') });
    }

    // The hook bites where EC2 is in use (pcc made resources there): the same command needs the SDK.
    const used = makeProject({});
    mkdirSync(path.join(used, '.pcc', 'ec2'), { recursive: true });
    writeFileSync(path.join(used, '.pcc', 'ec2', 'region'), 'eu-west-1\n');
    const run = await withoutSdk(used, ['status', '--json']);
    // EC2 not answering (here: its SDK cannot load) is a warning; the other providers' hosts are still listed.
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toMatch(/warn: ec2 did not answer; its hosts are shown as last recorded: .*loaded the AWS SDK: @aws-sdk\/client-ec2/);
  }, 60_000);

  it('flags a provider does not have are refused with exit 2', async () => {
    const root = makeProject({});
    const spot = await pcc(['up', 'vagrant', '--spot'], root);
    expect(spot.code).toBe(2);
    expect(spot.stderr).toContain('the vagrant provider has no spot capacity');
    const type = await pcc(['up', 'vagrant', '--instance-type', 'c7i.large'], root);
    expect(type.code).toBe(2);
    expect(type.stderr).toContain('the vagrant provider has no machine types to choose from');
    const rm = await pcc(['images', 'rm'], root);
    expect(rm.code).toBe(2);
    expect(rm.stderr).toContain('expected the images to remove');
  });
});
