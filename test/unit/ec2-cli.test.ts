import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
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
    expect(help.stdout).toContain('pcc up [PROVIDER] [--count N] [--type cpu|gpu] [--instance-type T] [--spot] [--json]');
    expect(help.stdout).toContain('pcc save PATTERN [--image] [--json]');
    expect(help.stdout).toContain('pcc images [rm IMAGE...] [--json]');
  });

  it('a project without AWS settings lists no images and never asks AWS', async () => {
    const root = makeProject({});
    expect(await pcc(['images'], root)).toEqual({ code: 0, stdout: 'no saved images — pcc save PATTERN --image makes one\n', stderr: '' });
    expect(await pcc(['images', '--json'], root)).toMatchObject({ code: 0, stdout: '[]\n' });
  });

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
