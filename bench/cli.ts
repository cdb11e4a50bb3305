/**
 * bench/cli: what a headless command costs to start. The built pcc runs `status --json`,
 * `images --json` and `--help` in a project without hosts, alternating with the floor — node starting
 * and exiting with nothing to do — and prints each command's median wall time and peak memory as a
 * ratio to that floor. It measures the built pcc (dist/): run `npm run build` first.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { median } from './fleet.js';

const ROUNDS = 9;
const PCC_BIN = path.resolve('dist/cli/main.js');
const COMMANDS = [['status', '--json'], ['images', '--json'], ['--help']];

const base = mkdtempSync(path.join(tmpdir(), 'pcc-bench-cli-'));
try {
  const root = path.join(base, 'benchcli');
  mkdirSync(path.join(root, 'config'), { recursive: true });
  writeFileSync(path.join(root, 'config', 'project.env'), 'PROJECT_NAME=benchcli\n');
  // Each run writes its own peak RSS (kB) as it exits; the preload costs the floor and pcc alike.
  const peakFile = path.join(base, 'peak');
  const preload = `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(peakFile)}, String(process.resourceUsage().maxRSS)));`;
  const env = { HOME: path.join(base, 'home'), PATH: process.env.PATH };

  async function run(args: string[]): Promise<{ ms: number; peakKb: number }> {
    const started = performance.now();
    await execa('node', ['--require', path.join(base, 'peak.cjs'), ...args], { cwd: root, env, extendEnv: false, stdin: 'ignore' });
    return { ms: performance.now() - started, peakKb: Number(readFileSync(peakFile, 'utf8')) };
  }
  writeFileSync(path.join(base, 'peak.cjs'), preload);

  const floor: { ms: number; peakKb: number }[] = [];
  const measured = new Map<string, { ms: number; peakKb: number }[]>(COMMANDS.map((args) => [args.join(' '), []]));
  for (let round = 0; round < ROUNDS; round++) {
    floor.push(await run(['-e', '0']));
    for (const args of COMMANDS) measured.get(args.join(' '))?.push(await run([PCC_BIN, ...args]));
  }

  const floorMs = median(floor.map((sample) => sample.ms));
  const floorMb = median(floor.map((sample) => sample.peakKb)) / 1024;
  console.log(`floor (node -e 0)          ${floorMs.toFixed(0).padStart(5)} ms  ${floorMb.toFixed(0).padStart(4)} MB`);
  for (const [command, samples] of measured) {
    const ms = median(samples.map((sample) => sample.ms));
    const mb = median(samples.map((sample) => sample.peakKb)) / 1024;
    console.log(`pcc ${command.padEnd(22)} ${ms.toFixed(0).padStart(5)} ms  ${mb.toFixed(0).padStart(4)} MB   ${(ms / floorMs).toFixed(2)}× time, ${(mb / floorMb).toFixed(2)}× memory of the floor`);
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
