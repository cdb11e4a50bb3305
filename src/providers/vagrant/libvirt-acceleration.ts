import { accessSync, constants, readdirSync } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';

/** libvirt's domain types: kvm (hardware virtualisation) or qemu (TCG, software emulation). */
export type LibvirtDriver = 'kvm' | 'qemu';

export interface Acceleration {
  driver: LibvirtDriver;
  /** Why this driver, in words a person can act on. */
  reason: string;
}

/** A KVM guest that has not got that far by then is taken as hung (as nested KVM can leave one). */
export const KVM_PROBE_TIMEOUT_MS = 20_000;

export const TCG_COST = 'software emulation: a machine boots in one to two minutes and runs several times slower than with KVM';

/** The newest kernel in /boot this user can read: the probe boots it, as a real guest would boot its own. */
export function probeKernel(bootDir = '/boot'): string | undefined {
  let names: string[];
  try {
    names = readdirSync(bootDir).filter((name) => name.startsWith('vmlinuz-'));
  } catch {
    return undefined;
  }
  const readable = names.map((name) => path.join(bootDir, name)).filter((file) => {
    try {
      accessSync(file, constants.R_OK);
      return true;
    } catch {
      return false;
    }
  });
  return readable.sort((a, b) => a.localeCompare(b, undefined, { numeric: true })).pop();
}

/**
 * Whether KVM works here, decided by a bounded probe rather than by /dev/kvm alone: where KVM is nested
 * inside another VM, /dev/kvm can exist while a guest hangs in early boot. The probe boots this
 * machine's kernel under KVM with no root filesystem and waits for it to get as far as failing to mount
 * one; without a readable kernel it boots qemu's firmware with no disk and waits for it to find nothing
 * bootable. Anything else within the timeout means TCG.
 */
export async function probeAcceleration(env: NodeJS.ProcessEnv, options: { device?: string; kernel?: string | null; timeoutMs?: number } = {}): Promise<Acceleration> {
  const { device = '/dev/kvm', timeoutMs = KVM_PROBE_TIMEOUT_MS } = options;
  const kernel = options.kernel === undefined ? probeKernel() : (options.kernel ?? undefined);
  try {
    await access(device, constants.R_OK | constants.W_OK);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    return { driver: 'qemu', reason: missing ? `${device} does not exist (no hardware virtualisation here)` : `${device} is not writable by this user (add it to the kvm group)` };
  }
  const guest = kernel
    ? { what: `a KVM guest booting ${kernel}`, args: ['-serial', 'stdio', '-kernel', kernel, '-append', 'console=ttyS0 panic=-1 root=/dev/pcc-probe'], got: /Kernel panic|Unable to mount root/ }
    // SeaBIOS writes its log to port 0x402.
    : { what: "a KVM guest's firmware", args: ['-chardev', 'stdio,id=firmware', '-device', 'isa-debugcon,iobase=0x402,chardev=firmware'], got: /No bootable device/ };
  const { execa } = await import('execa');
  const qemu = execa('qemu-system-x86_64', ['-accel', 'kvm', '-m', '256', '-nodefaults', '-display', 'none', '-no-reboot', ...guest.args], {
    env, extendEnv: false, stdin: 'ignore', reject: false, timeout: timeoutMs, buffer: true, lines: false,
  });
  let output = '';
  let booted = false;
  qemu.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('latin1');
    if (!booted && guest.got.test(output)) {
      booted = true;
      qemu.kill();
    }
  });
  const result = await qemu;
  if (booted) return { driver: 'kvm', reason: `${guest.what} started` };
  if ((result as { code?: string }).code === 'ENOENT') return { driver: 'qemu', reason: 'qemu-system-x86_64 not found' };
  if (result.timedOut) return { driver: 'qemu', reason: `${guest.what} did not get through early boot in ${timeoutMs / 1000} s (nested virtualisation?)` };
  const said = `${result.stderr}`.trim().split('\n').pop();
  return { driver: 'qemu', reason: `${guest.what} did not start${said ? `: ${said}` : ''}` };
}

/** The driver new machines get: the setting when it names one, else the probe's answer. */
export async function chosenAcceleration(setting: LibvirtDriver | 'auto', env: NodeJS.ProcessEnv): Promise<Acceleration> {
  return setting === 'auto' ? probeAcceleration(env) : { driver: setting, reason: `LIBVIRT_DRIVER=${setting}` };
}
