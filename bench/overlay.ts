/**
 * bench/overlay: TCP throughput between two fleet machines (containers on one Docker bridge) over
 * pcc's overlay (WireGuard, wireguard-go in these containers) beside the same pair over the bridge
 * directly, measured alternately in one run so machine noise hits both alike. Prints the ratio.
 * Run with `npm run bench:overlay` (needs the fleet: npm test or npm run fleet:up brings it).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/engine/config/load.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { destroy, sshTarget, up } from '../src/engine/lifecycle.js';
import { overlayAddress } from '../src/engine/overlay/addressing.js';
import { overlayDriver } from '../src/engine/overlay/overlay.js';
import { dockerEngine } from '../src/engine/setup/docker-engine.js';
import { dockerStorage } from '../src/engine/setup/docker-storage.js';
import { failureLines, setupHosts } from '../src/engine/setup/setup.js';
import { fleetEnv, median } from './fleet.js';

const ROUNDS = 3;
const SECONDS = 5;

function makeEngine(): { engine: Engine; base: string } {
  const base = mkdtempSync(path.join(tmpdir(), 'pcc-bench-'));
  const root = path.join(base, 'bench');
  mkdirSync(path.join(root, 'config'), { recursive: true });
  writeFileSync(path.join(root, 'config', 'project.env'),
    `PROJECT_NAME=benchovl${process.pid}\nVAGRANT_PROVIDER=docker\nVAGRANT_DOCKER_IMAGE=${process.env.VAGRANT_DOCKER_IMAGE}\nVARLIBDOCKER_GB=3\n`);
  const home = path.join(base, 'home');
  mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
  const env = { ...process.env, HOME: home, VAGRANT_PROVIDER: undefined, VAGRANT_DOCKER_IMAGE: undefined };
  return { engine: createEngine(loadConfig(root, env), { env, home }), base };
}

async function run(engine: Engine, host: string, command: string): Promise<string> {
  const record = engine.state.read().hosts[host];
  if (!record) throw new Error(`${host} is not in state`);
  const result = await engine.ssh.exec(sshTarget(record), command, { sudo: true, quiet: true });
  if (result.code !== 0) throw new Error(`${host}: ${command}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/** Bits per second the client received from the server over SECONDS of iperf3. */
async function throughput(engine: Engine, client: string, server: string): Promise<number> {
  const command = `iperf3 -J -c ${server} -t ${SECONDS}`;
  const report = JSON.parse(await run(engine, client, `${command} || true`)) as { error?: string; end: { sum_received?: { bits_per_second: number } } };
  if (!report.end.sum_received) throw new Error(`${client}: ${command}: ${report.error ?? 'no result'}`);
  return report.end.sum_received.bits_per_second;
}

await fleetEnv();
const { engine, base } = makeEngine();
try {
  const [a, b] = (await up(engine, 'vagrant', { count: 2, computeType: 'cpu' })).map((host) => host.name) as [string, string];
  const summary = await setupHosts(engine, Object.values(engine.state.read().hosts), 'bench', { steps: [dockerStorage, dockerEngine, overlayDriver(engine.config).step] });
  if (!summary.ok) throw new Error(`setup failed: ${failureLines(summary).join('; ')}`);
  const hostB = engine.state.read().hosts[b];
  if (!hostB?.overlay?.endpoint) throw new Error(`${b} did not join the overlay`);
  const overlayB = overlayAddress(engine.config.hosts.compute.overlay, hostB.overlay.index).address;
  // Its address on the fleet's bridge, where the overlay's own packets travel.
  const bridgeB = hostB.overlay.endpoint;
  await run(engine, b, 'iperf3 -s -D');
  const overlay: number[] = [];
  const bridge: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    bridge.push(await throughput(engine, a, bridgeB));
    overlay.push(await throughput(engine, a, overlayB));
  }
  const gbit = (bits: number) => (bits / 1e9).toFixed(2);
  console.log(`\nbench/overlay — TCP, ${SECONDS} s per run, median of ${ROUNDS} alternating runs, ${a} → ${b}`);
  console.log(`${"path".padEnd(38)}Gbit/s`);
  console.log(`direct bridge (${bridgeB})`.padEnd(38) + gbit(median(bridge)));
  console.log(`overlay (${overlayB}, ${overlayDriver(engine.config).id})`.padEnd(38) + gbit(median(overlay)));
  console.log(`overlay/bridge ratio: ${(median(overlay) / median(bridge)).toFixed(3)}`);
} finally {
  await destroy(engine, 'all').catch((error: Error) => console.error(`cleanup: ${error.message}`));
  engine.ssh.closeAll();
  rmSync(base, { recursive: true, force: true });
}
