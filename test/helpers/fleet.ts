import { execa } from 'execa';
import { machineContainerArgs } from '../../src/providers/vagrant/machine-container.js';

/** A machine container started straight from the fleet's host image (no Vagrant). */
export interface FleetMachine {
  id: string;
  name: string;
  address: string;
  /** The machine's own ed25519 host key, read out of band, as "ssh-ed25519 AAAA...". */
  hostKey: string;
  remove(): Promise<void>;
}

export function fleetImage(): string {
  const image = process.env.VAGRANT_DOCKER_IMAGE;
  if (!image) throw new Error('VAGRANT_DOCKER_IMAGE is unset: run the suite with `npm test`');
  return image;
}

/** Runs the docker CLI against the fleet's engine (DOCKER_HOST). */
export async function docker(args: string[]): Promise<string> {
  const { stdout } = await execa('docker', args, { stdin: 'ignore' });
  return stdout.trim();
}

/** Starts a machine from the fleet image and waits until systemd has brought sshd up; `extraArgs` go to docker run. */
export async function startFleetMachine(name: string, extraArgs: string[] = []): Promise<FleetMachine> {
  await execa('docker', ['rm', '-f', name], { reject: false });
  const id = await docker(['run', '-d', '--name', name, '--hostname', name, '--label', 'pcc.fleet=1', ...machineContainerArgs(), ...extraArgs, fleetImage()]);
  const address = await docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', id]);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const probe = await execa('docker', ['exec', id, 'sh', '-c', 'systemctl is-active -q ssh && cat /etc/ssh/ssh_host_ed25519_key.pub'], { reject: false });
    if (probe.exitCode === 0) {
      const [type, key] = probe.stdout.trim().split(/\s+/);
      return { id, name, address, hostKey: `${type} ${key}`, remove: async () => void (await docker(['rm', '-f', id])) };
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await execa('docker', ['rm', '-f', id], { reject: false });
  throw new Error(`machine ${name} from ${fleetImage()} did not start sshd within 60 s`);
}
