import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chosenAcceleration, probeAcceleration, probeKernel } from '../../src/providers/vagrant/libvirt-acceleration.js';
import { lineSplitter } from '../../src/providers/vagrant/vagrant-provider.js';
import { tempDir } from '../helpers/project.js';

/** A qemu-system-x86_64 on PATH that runs `script`, and a writable file standing in for /dev/kvm. */
function fakeQemu(script: string): { env: NodeJS.ProcessEnv; device: string } {
  const bin = tempDir('pcc-qemu-');
  writeFileSync(path.join(bin, 'qemu-system-x86_64'), `#!/bin/sh\n${script}\n`);
  chmodSync(path.join(bin, 'qemu-system-x86_64'), 0o755);
  const device = path.join(bin, 'kvm');
  writeFileSync(device, '');
  return { env: { PATH: `${bin}:/usr/bin:/bin` }, device };
}

describe('libvirt acceleration probe', () => {
  it('uses TCG without /dev/kvm, and says so', async () => {
    const probed = await probeAcceleration({ PATH: '/usr/bin:/bin' }, { device: path.join(tempDir('pcc-nokvm-'), 'kvm') });
    expect(probed).toEqual({ driver: 'qemu', reason: expect.stringMatching(/kvm does not exist/) });
  });

  it('uses KVM when a kernel booted under KVM gets as far as looking for its root filesystem, and stops it there', async () => {
    const { env, device } = fakeQemu('case "$*" in *"-accel kvm"*"-kernel /boot/vmlinuz-test"*) ;; *) exit 1;; esac\necho "[    0.000000] Linux version 6.1.0"; echo "[    1.9] Kernel panic - not syncing: VFS: Unable to mount root fs"; exec sleep 30');
    const started = Date.now();
    expect(await probeAcceleration(env, { device, kernel: '/boot/vmlinuz-test' })).toEqual({ driver: 'kvm', reason: 'a KVM guest booting /boot/vmlinuz-test started' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('without a kernel to boot, uses KVM when the firmware under KVM reports that nothing is bootable', async () => {
    const { env, device } = fakeQemu('case "$*" in *"-accel kvm"*isa-debugcon*) ;; *) exit 1;; esac\necho "SeaBIOS"; echo "No bootable device."; exec sleep 30');
    expect(await probeAcceleration(env, { device, kernel: null })).toEqual({ driver: 'kvm', reason: "a KVM guest's firmware started" });
  });

  it('falls back to TCG when a KVM guest hangs in early boot (bounded by the timeout) or fails to start', async () => {
    const hung = fakeQemu('echo "[    0.000000] Linux version 6.1.0"; exec sleep 30');
    expect(await probeAcceleration(hung.env, { device: hung.device, kernel: '/boot/vmlinuz-test', timeoutMs: 500 })).toEqual({
      driver: 'qemu', reason: 'a KVM guest booting /boot/vmlinuz-test did not get through early boot in 0.5 s (nested virtualisation?)',
    });
    const failing = fakeQemu('echo "failed to initialize kvm: Permission denied" >&2; exit 1');
    expect(await probeAcceleration(failing.env, { device: failing.device, kernel: null })).toEqual({ driver: 'qemu', reason: "a KVM guest's firmware did not start: failed to initialize kvm: Permission denied" });
  });

  it('boots the newest kernel in /boot that it can read', () => {
    const boot = tempDir('pcc-boot-');
    for (const name of ['vmlinuz-6.1.0-9-amd64', 'vmlinuz-6.1.0-10-amd64', 'config-6.1.0-10-amd64']) writeFileSync(path.join(boot, name), '');
    expect(probeKernel(boot)).toBe(path.join(boot, 'vmlinuz-6.1.0-10-amd64'));
    expect(probeKernel(path.join(boot, 'missing'))).toBeUndefined();
  });

  it('takes LIBVIRT_DRIVER as given when it names a driver', async () => {
    expect(await chosenAcceleration('qemu', {})).toEqual({ driver: 'qemu', reason: 'LIBVIRT_DRIVER=qemu' });
    expect(await chosenAcceleration('kvm', {})).toEqual({ driver: 'kvm', reason: 'LIBVIRT_DRIVER=kvm' });
  });
});

describe("Vagrant's output split into lines", () => {
  it('keeps what a terminal shows: a carriage return overwrites the line (progress counters)', () => {
    const lines: string[] = [];
    const split = lineSplitter((line) => lines.push(line));
    split(Buffer.from('==> init: Uploading\n\x1b[KProgress: 0%\r\x1b[KProgress: 50%'));
    split(Buffer.from('\r\x1b[KProgress: 100%\r\x1b[K==> init: Creating image\n   \n==> init: Starting'));
    split(Buffer.from(' domain.\n'));
    expect(lines).toEqual(['==> init: Uploading', '==> init: Creating image', '==> init: Starting domain.']);
  });
});
