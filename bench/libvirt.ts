/**
 * bench/libvirt: what a real-kernel machine costs beside a container machine, on the same run: the wall
 * time of `pcc up vagrant --count 1` as typed (boot to SSH: pcc returns once it has pinned the machine's
 * host key) and of a fresh `pcc setup` of it (the steps that need no controller: the btrfs volume,
 * Docker, CUDA detection), on the docker backend and on libvirt (KVM or TCG, whichever the probe
 * picks here). Prints both figures and the ratio libvirt/docker for each.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { loadConfig } from '../src/core/config/load.js';
import { createEngine } from '../src/engine/engine.js';
import { cuda } from '../src/engine/setup/cuda.js';
import { dockerEngine } from '../src/engine/setup/docker-engine.js';
import { dockerStorage } from '../src/engine/setup/docker-storage.js';
import { failureLines, setupHosts } from '../src/engine/setup/setup.js';
import { chosenAcceleration } from '../src/providers/vagrant/libvirt-acceleration.js';
import { fleetEnv, timed } from './fleet.js';

type Backend = 'docker' | 'libvirt';

/** A throw-away project on one backend; Vagrant's boxes stay in the runner's own Vagrant home. */
function makeProject(backend: Backend): { root: string; env: NodeJS.ProcessEnv } {
  const base = mkdtempSync(path.join(os.tmpdir(), 'pcc-bench-'));
  const root = path.join(base, 'bench');
  mkdirSync(path.join(root, 'config'), { recursive: true });
  const machine = backend === 'docker' ? `VAGRANT_DOCKER_IMAGE=${process.env.VAGRANT_DOCKER_IMAGE}` : `VAGRANT_BOX=${process.env.LIBVIRT_BOX}\nVAGRANT_MEMORY_MB=1536`;
  writeFileSync(path.join(root, 'config', 'project.env'), `PROJECT_NAME=bench${backend}${process.pid}\nVAGRANT_PROVIDER=${backend}\n${machine}\nVARLIBDOCKER_GB=3\n`);
  const home = path.join(base, 'home');
  mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
  const vagrantHome = process.env.VAGRANT_HOME ?? path.join(os.homedir(), '.vagrant.d');
  return { root, env: { ...process.env, HOME: home, VAGRANT_HOME: vagrantHome, VAGRANT_PROVIDER: undefined, VAGRANT_DOCKER_IMAGE: undefined } };
}

async function measure(backend: Backend): Promise<{ boot: number; setup: number }> {
  const { root, env } = makeProject(backend);
  const pcc = (args: string[]) => execa('node', [path.resolve('dist/cli/main.js'), ...args], { cwd: root, env, extendEnv: false, stdin: 'ignore' });
  try {
    const boot = await timed(() => pcc(['up', 'vagrant', '--count', '1']));
    const engine = createEngine(loadConfig(root, env), { env, home: env.HOME as string });
    const hosts = Object.values(engine.state.read().hosts);
    let failures: string[] = [];
    const setup = await timed(async () => {
      failures = failureLines(await setupHosts(engine, hosts, 'bench', { steps: [dockerStorage, dockerEngine, cuda] }));
    });
    engine.ssh.closeAll();
    if (failures.length > 0) throw new Error(`${backend}: setup failed:\n${failures.join('\n')}`);
    return { boot, setup };
  } finally {
    await execa('node', [path.resolve('dist/cli/main.js'), 'destroy', 'all', '--yes'], { cwd: root, env, extendEnv: false, stdin: 'ignore', reject: false });
  }
}

await fleetEnv();
const acceleration = await chosenAcceleration('auto', process.env);
console.log(`libvirt here: ${acceleration.driver === 'kvm' ? 'KVM' : 'TCG'} (${acceleration.reason})`);
const docker = await measure('docker');
const libvirt = await measure('libvirt');
const row = (label: string, a: number, b: number) => console.log(`${label.padEnd(22)} docker ${a.toFixed(1).padStart(6)} s   libvirt ${b.toFixed(1).padStart(6)} s   ratio ${(b / a).toFixed(1)}×`);
row('boot to SSH (pcc up)', docker.boot, libvirt.boot);
row('fresh setup', docker.setup, libvirt.setup);
