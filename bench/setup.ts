/**
 * bench/setup: pcc's wall time to set up 1 and 4 fresh fleet machines, and for the no-change rerun,
 * each beside a floor measured the same way — the same steps as one plain script per host over one
 * `ssh` call, all hosts in parallel. Prints the ratios pcc/floor (targets: ≤ 1.5× fresh, ≤ 2× rerun).
 *
 * pcc is timed in-process (the engine's setup of the hosts, with a fresh SSH pool, as the terminal UI
 * runs it); the CLI's start-up and its reconcile with Vagrant are outside both measurements. The NFS
 * step is left out of both: the fleet's kernel has no NFS client.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { loadConfig } from '../src/core/config/load.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { destroy, up } from '../src/engine/lifecycle.js';
import { mergeDaemonJson } from '../src/engine/setup/daemon-json.js';
import { cuda } from '../src/engine/setup/cuda.js';
import { dockerEngine } from '../src/engine/setup/docker-engine.js';
import { dockerStorage } from '../src/engine/setup/docker-storage.js';
import { registryAccess } from '../src/engine/setup/registry-access.js';
import { failureLines, setupHosts } from '../src/engine/setup/setup.js';
import { fleetEnv, floorRegistryInputs, median, timed } from './fleet.js';

const GB = 3;
const RERUNS = 5;
// The steps the floor script also does (the overlay and the share have their own tests and bench).
const steps = [dockerStorage, dockerEngine, registryAccess, cuda];

function makeProject(): { root: string; home: string } {
  const base = mkdtempSync(path.join(tmpdir(), 'pcc-bench-'));
  const root = path.join(base, 'bench');
  mkdirSync(path.join(root, 'config'), { recursive: true });
  writeFileSync(
    path.join(root, 'config', 'project.env'),
    `PROJECT_NAME=bench${process.pid}\nVAGRANT_PROVIDER=docker\nVAGRANT_DOCKER_IMAGE=${process.env.VAGRANT_DOCKER_IMAGE}\nVARLIBDOCKER_GB=${GB}\n`,
  );
  mkdirSync(path.join(base, 'home', '.ssh'), { recursive: true, mode: 0o700 });
  return { root, home: path.join(base, 'home') };
}

/** Loop devices bound how many machines hold a volume at once: make sure 16 exist. */
async function ensureLoopDevices(): Promise<void> {
  for (let index = 0; index < 16; index++) {
    if (!existsSync(`/dev/loop${index}`)) await execa('mknod', ['-m', '660', `/dev/loop${index}`, 'b', '7', String(index)]);
  }
}

function freshEngine(root: string, home: string): Engine {
  const env = { ...process.env, HOME: home, VAGRANT_PROVIDER: undefined, VAGRANT_DOCKER_IMAGE: undefined };
  return createEngine(loadConfig(root, env), { env, home });
}

async function pccSetup(root: string, home: string, names: string[]): Promise<number> {
  const engine = freshEngine(root, home);
  const hosts = Object.values(engine.state.read().hosts).filter((host) => names.includes(host.name));
  let failures: string[] = [];
  const seconds = await timed(async () => {
    failures = failureLines(await setupHosts(engine, hosts, 'bench', { steps }));
  });
  engine.ssh.closeAll();
  if (failures.length > 0) throw new Error(`pcc setup failed: ${failures.join('; ')}`);
  return seconds;
}

async function floorSetup(home: string, names: string[], engine: Engine): Promise<number> {
  const config = engine.config;
  const daemonJson = mergeDaemonJson('absent', { storageDriver: 'btrfs' }) ?? '';
  const script = readFileSync(new URL('setup-floor.sh', import.meta.url), 'utf8');
  const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;
  const command = `sudo env VOLUME_FILE=${quote(config.varLibDocker.file)} VOLUME_GB=${GB} REGISTRY_HOST=${quote(config.hosts.compute.registryHost)} DAEMON_JSON=${quote(daemonJson)} bash -s`;
  return timed(() =>
    Promise.all(names.map((name) => execa('ssh', ['-F', path.join(home, '.ssh', 'config'), '-o', 'BatchMode=yes', name, command], { input: floorRegistryInputs(config) + script }))),
  );
}

async function round(count: number): Promise<{ fresh: [number, number]; rerun: [number, number] }> {
  const { root, home } = makeProject();
  const engine = freshEngine(root, home);
  try {
    const hosts = (await up(engine, 'vagrant', { count: count * 2, computeType: 'cpu' })).map((host) => host.name);
    engine.ssh.closeAll();
    const mine = hosts.slice(0, count);
    const floor = hosts.slice(count);
    const fresh: [number, number] = [await pccSetup(root, home, mine), await floorSetup(home, floor, engine)];
    const pcc: number[] = [];
    const plain: number[] = [];
    for (let run = 0; run < RERUNS; run++) {
      pcc.push(await pccSetup(root, home, mine));
      plain.push(await floorSetup(home, floor, engine));
    }
    return { fresh, rerun: [median(pcc), median(plain)] };
  } finally {
    await destroy(engine, 'all').catch((error: Error) => console.error(`cleanup: ${error.message}`));
    rmSync(path.dirname(root), { recursive: true, force: true });
  }
}

await fleetEnv();
await ensureLoopDevices();
const rows: [string, number, number, number][] = [];
for (const count of [1, 4]) {
  const result = await round(count);
  rows.push([`fresh, ${count} host${count > 1 ? 's' : ''}`, ...result.fresh, 1.5]);
  rows.push([`rerun, ${count} host${count > 1 ? 's' : ''} (median of ${RERUNS})`, ...result.rerun, 2]);
}
console.log(`\nbench/setup — VARLIBDOCKER_GB=${GB}; steps: ${steps.map((step) => step.id).join(', ')}`);
console.log('case                          pcc (s)  floor (s)  pcc/floor  target');
for (const [label, pcc, floor, target] of rows) {
  const ratio = pcc / floor;
  console.log(`${label.padEnd(30)}${pcc.toFixed(3).padStart(7)}  ${floor.toFixed(3).padStart(9)}  ${ratio.toFixed(2).padStart(8)}×  ≤ ${target}×${ratio > target ? '  (over)' : ''}`);
}
