/**
 * bench/run: the time from typing `pcc run IMAGE --on HOST` to its first output line, beside what a
 * user types without pcc on the same host, `ssh HOST docker run --rm $REGISTRY_HOST/IMAGE` (the alias
 * pcc wrote, the image already pulled there), each as its own process, alternating in one run so
 * machine noise hits both alike. Prints the medians and the ratio pcc / ssh.
 *
 * A throw-away project (its own HOME) gets init and one compute host through pcc as a user would
 * (`pcc init`, `pcc up vagrant --setup`); everything is destroyed at the end, also on failure. Needs
 * the fleet (npm test or npm run fleet:up brings it) and the built pcc: run `npm run build` first.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { fleetEnv, median } from './fleet.js';

const ROUNDS = Number(process.env.RUN_ROUNDS ?? 7);
const PCC_BIN = path.resolve('dist/cli/main.js');
const FIRST_LINE = 'probe says hello';

await fleetEnv();
const base = mkdtempSync(path.join(tmpdir(), 'pcc-bench-run-'));
const root = path.join(base, 'benchrun');
const home = path.join(base, 'home');
mkdirSync(path.join(root, 'config'), { recursive: true });
mkdirSync(path.join(root, 'docker', '010-probe'), { recursive: true });
mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
writeFileSync(path.join(root, 'config', 'project.env'),
  `PROJECT_NAME=benchrun${process.pid}\nVAGRANT_PROVIDER=docker\nVAGRANT_DOCKER_IMAGE=${process.env.VAGRANT_DOCKER_IMAGE}\nREGISTRY_IMAGE=${process.env.REGISTRY_IMAGE}\nVARLIBDOCKER_GB=3\n`);
writeFileSync(path.join(root, 'docker', '010-probe', 'Dockerfile'), `FROM busybox:stable\nCMD ["echo", "${FIRST_LINE}"]\n`);
const env = { ...process.env, HOME: home, VAGRANT_PROVIDER: undefined, VAGRANT_DOCKER_IMAGE: undefined, REGISTRY_IMAGE: undefined, VAGRANT_CHECKPOINT_DISABLE: '1' };
const pcc = (args: string[]) => execa('node', [PCC_BIN, ...args], { cwd: root, env, extendEnv: false, stdin: 'ignore', reject: false });

/** Seconds from starting the command to the first stdout line that holds `FIRST_LINE`; the process is left to finish. */
async function toFirstLine(file: string, args: string[]): Promise<number> {
  const started = process.hrtime.bigint();
  const child = execa(file, args, { cwd: root, env, extendEnv: false, stdin: 'ignore', reject: false });
  let seen: number | undefined;
  child.stdout?.on('data', (chunk: Buffer) => {
    if (seen === undefined && chunk.toString().includes(FIRST_LINE)) seen = Number(process.hrtime.bigint() - started) / 1e9;
  });
  const result = await child;
  if (seen === undefined) throw new Error(`${file} ${args.join(' ')}: no "${FIRST_LINE}" (exit ${result.exitCode}): ${result.stderr}`);
  return seen;
}

try {
  const init = await pcc(['init']);
  if (init.exitCode !== 0) throw new Error(`pcc init failed: ${init.stderr}`);
  // The share fails on the fleet (its kernel has no NFS client); the rest of the setup must not.
  await pcc(['up', 'vagrant', '--setup']);
  const sshConfig = path.join(home, '.ssh', 'config');
  const ssh = ['-F', sshConfig, '-o', 'BatchMode=yes', 'vagrant1'];
  const pull = await execa('ssh', [...ssh, 'bash -lc "docker pull -q \\$REGISTRY_HOST/probe"'], { env, stdin: 'ignore', reject: false });
  if (pull.exitCode !== 0) throw new Error(`pull on vagrant1 failed: ${pull.stderr}`);

  const withPcc: number[] = [];
  const withSsh: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    withSsh.push(await toFirstLine('ssh', [...ssh, 'bash -lc "docker run --rm \\$REGISTRY_HOST/probe"']));
    withPcc.push(await toFirstLine('node', [PCC_BIN, 'run', 'probe', '--on', 'vagrant1']));
  }
  const [p, s] = [median(withPcc), median(withSsh)];
  console.log(`pcc run to first line:          median ${p.toFixed(2)} s  (${withPcc.map((t) => t.toFixed(2)).join(' ')})`);
  console.log(`ssh HOST docker run, first line: median ${s.toFixed(2)} s  (${withSsh.map((t) => t.toFixed(2)).join(' ')})`);
  console.log(`ratio pcc / ssh: ${(p / s).toFixed(2)}×`);
} finally {
  await pcc(['destroy', 'all', '--yes']);
  rmSync(base, { recursive: true, force: true });
}
