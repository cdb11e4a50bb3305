/**
 * bench/overlay: TCP throughput between two containers on two fleet machines: over pcc's overlay
 * (containers on the `pcc` network; WireGuard, wireguard-go on these machines) beside the same pair of
 * machines over their Docker bridge directly (containers on the hosts' own network), measured
 * alternately in one run so machine noise hits both alike. Prints the ratio.
 * Run with `npm run bench:overlay` (needs the fleet: npm test or npm run fleet:up brings it).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/core/config/load.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { destroy, up } from '../src/engine/lifecycle.js';
import { sshTarget } from '../src/engine/ssh/pool.js';
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

const IMAGE = 'pcc-bench-iperf3';

/** An image of the host's own iperf3 (the machines reach no registry): the binary and its libraries. */
async function iperfImage(engine: Engine, host: string): Promise<void> {
  await run(engine, host, `docker image inspect ${IMAGE} >/dev/null 2>&1 || tar -ch $(ldd /usr/bin/iperf3 | grep -o '/[^ ]*') /usr/bin/iperf3 2>/dev/null | docker import - ${IMAGE} >/dev/null`);
}

/** `docker run` of iperf3 in a container on `network` (iperf3 keeps its buffer in a file under /tmp). */
const iperf = (network: string, args: string) => `docker run --network ${network} --tmpfs /tmp ${IMAGE} /usr/bin/iperf3 ${args}`;

/** Bits per second a client container on `client` received from the server at `server`:`port`. */
async function throughput(engine: Engine, client: string, network: string, server: string, port: number): Promise<number> {
  const command = iperf(network, `-J -c ${server} -p ${port} -t ${SECONDS}`);
  const report = JSON.parse(await run(engine, client, `${command.replace('docker run', 'docker run --rm')} || true`)) as { error?: string; end: { sum_received?: { bits_per_second: number } } };
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
  // B's address on the fleet's bridge, where the overlay's own packets travel.
  const bridgeB = hostB.overlay.endpoint;
  for (const host of [a, b]) await iperfImage(engine, host);
  // On B, two server containers: one on pcc's overlay network, one on the host's own network.
  await run(engine, b, `${iperf('pcc', '-s -p 5201').replace('docker run', 'docker run -d --name pcc-bench-overlay')} >/dev/null`);
  await run(engine, b, `${iperf('host', '-s -p 5202').replace('docker run', 'docker run -d --name pcc-bench-bridge')} >/dev/null`);
  const overlayB = await run(engine, b, `docker inspect -f '{{(index .NetworkSettings.Networks "pcc").IPAddress}}' pcc-bench-overlay`);
  const overlay: number[] = [];
  const bridge: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    bridge.push(await throughput(engine, a, 'host', bridgeB, 5202));
    overlay.push(await throughput(engine, a, 'pcc', overlayB, 5201));
  }
  const gbit = (bits: number) => (bits / 1e9).toFixed(2);
  console.log(`\nbench/overlay — TCP between two containers, ${SECONDS} s per run, median of ${ROUNDS} alternating runs, ${a} → ${b}`);
  console.log(`${'path'.padEnd(58)}Gbit/s`);
  console.log(`direct bridge (host-network containers, to ${bridgeB})`.padEnd(58) + gbit(median(bridge)));
  console.log(`overlay (containers on pcc, to ${overlayB}, ${overlayDriver(engine.config).id})`.padEnd(58) + gbit(median(overlay)));
  console.log(`overlay/bridge ratio: ${(median(overlay) / median(bridge)).toFixed(3)}`);
} finally {
  await destroy(engine, 'all').catch((error: Error) => console.error(`cleanup: ${error.message}`));
  engine.ssh.closeAll();
  rmSync(base, { recursive: true, force: true });
}
