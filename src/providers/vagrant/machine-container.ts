import { readdirSync } from 'node:fs';

/**
 * `docker run` flags that let a container behave like a VM for pcc: systemd as PID 1, sshd, loop-mounted
 * btrfs, its own dockerd, WireGuard userspace and FUSE. `--privileged` is not used: it fails where the
 * capability bounding set lacks CAP_SYS_RESOURCE, and these capabilities are all a machine needs.
 */
export function machineContainerArgs(devDir = '/dev'): string[] {
  const loopDevices = readdirSync(devDir)
    .filter((name) => /^loop\d+$/.test(name))
    .sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
  return [
    ...['SYS_ADMIN', 'NET_ADMIN', 'MKNOD', 'DAC_READ_SEARCH', 'SYS_PTRACE'].flatMap((cap) => ['--cap-add', cap]),
    '--security-opt', 'seccomp=unconfined',
    '--security-opt', 'apparmor=unconfined',
    // mount -o loop takes the first free loop device, so every one must be passed in.
    '--device', `${devDir}/loop-control`,
    ...loopDevices.flatMap((name) => ['--device', `${devDir}/${name}`]),
    '--device', `${devDir}/net/tun`,
    '--device', `${devDir}/fuse`,
    '--tmpfs', '/run',
    '--tmpfs', '/run/lock',
    // Writable cgroups: without them the machine's own dockerd starts but cannot run containers.
    '-v', '/sys/fs/cgroup:/sys/fs/cgroup:rw',
  ];
}
