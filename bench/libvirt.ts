/**
 * bench/libvirt: what a real-kernel machine costs beside a container machine, on the same run: the wall
 * time of `pcc up vagrant --count 1` as typed (boot to SSH: pcc returns once it has pinned the machine's
 * host key) and of a fresh `pcc setup` of it (the steps that need no controller: the btrfs volume,
 * Docker, CUDA detection), on the docker backend and on libvirt (KVM or TCG, whichever the probe
 * picks here). Prints both figures and the ratio libvirt/docker for each.
 */
import path from 'node:path';
import { execa } from 'execa';
import { loadConfig } from '../src/core/config/load.js';
import { createEngine } from '../src/engine/engine.js';
import { cuda } from '../src/engine/setup/cuda.js';
import { dockerEngine } from '../src/engine/setup/docker-engine.js';
import { dockerStorage } from '../src/engine/setup/docker-storage.js';
import { failureLines, setupHosts } from '../src/engine/setup/setup.js';
import { chosenAcceleration } from '../src/providers/vagrant/libvirt-acceleration.js';
import { makeFleetProject, makeLibvirtProject } from '../test/helpers/pcc.js';
import { fleetEnv, timed } from './fleet.js';

type Backend = 'docker' | 'libvirt';

async function measure(backend: Backend): Promise<{ boot: number; setup: number }> {
  const { root, env } = backend === 'docker' ? makeFleetProject('bench') : makeLibvirtProject('bench');
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
