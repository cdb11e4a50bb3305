import { execa } from 'execa';

/**
 * Global setup of the real-kernel tests: libvirt must answer and the fleet's box must be known to
 * Vagrant. Anything missing fails the run with the command that provides it; these tests never skip.
 */
export default async function requireLibvirt(): Promise<void> {
  const box = process.env.LIBVIRT_BOX;
  if (!box || !process.env.REGISTRY_IMAGE) {
    throw new Error('the real-kernel fleet is not configured (LIBVIRT_BOX or REGISTRY_IMAGE unset). Run the whole suite with `npm test`, or `set -a; eval "$(npm run -s fleet:up)"; set +a` before vitest.');
  }
  const virsh = await execa('virsh', ['-c', 'qemu:///system', 'version'], { reject: false });
  if (virsh.exitCode !== 0) throw new Error(`libvirt does not answer (virsh version: ${virsh.stderr || virsh.message}). Run \`npm run fleet:up\`.`);
  const boxes = await execa('vagrant', ['box', 'list'], { reject: false, env: { VAGRANT_CHECKPOINT_DISABLE: '1' } });
  if (!boxes.stdout.split('\n').some((line) => line.startsWith(`${box} `))) {
    throw new Error(`Vagrant has no box ${box} (vagrant box list: ${boxes.stdout || boxes.stderr}). Run \`npm run fleet:up\`.`);
  }
}
