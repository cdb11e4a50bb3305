import type { SetupStep, StepPlan } from './step.js';
import { unsupportedOs } from './step.js';

const GIB = 1024 ** 3;

/** /var/lib/docker on a btrfs volume in a loop file of VARLIBDOCKER_GB, mounted at every boot. */
export const dockerStorage: SetupStep = {
  id: 'docker-storage',
  title: 'Docker storage on btrfs',
  inputs: ({ config }) => ({ VOLUME_FILE: config.varLibDocker.file, VOLUME_GB: String(config.varLibDocker.gb) }),
  plan(facts, { config }): StepPlan {
    const unsupported = unsupportedOs(facts);
    if (unsupported) return unsupported;
    const { file, gb } = config.varLibDocker;
    const wanted = gb * GIB;
    const changes: string[] = [];
    const apply: Record<string, string> = {};
    const add = (flag: string, change: string) => {
      apply[flag] = '1';
      changes.push(change);
    };

    if (Number(facts.fstab_others ?? 0) > 0) {
      return { kind: 'refuse', reason: '/etc/fstab already mounts something else at /var/lib/docker; remove that line, pcc adds its own' };
    }
    if (facts.mkfs !== 'yes') add('DO_INSTALL', 'install btrfs-progs');

    if (facts.mount_fstype) {
      if (facts.mount_fstype !== 'btrfs' || facts.mount_backing !== file) {
        return {
          kind: 'refuse',
          reason: `/var/lib/docker is already a ${facts.mount_fstype} mount of ${facts.mount_backing || facts.mount_source}, not pcc's volume ${file}; unmount it (keeping its data elsewhere) and run setup again`,
        };
      }
      const current = Number(facts.file_bytes);
      if (wanted < current) {
        return {
          kind: 'refuse',
          reason: `VARLIBDOCKER_GB=${gb} is smaller than the existing ${current / GIB} GiB volume: pcc does not shrink it (btrfs could, but pcc will not guess); set VARLIBDOCKER_GB=${current / GIB} or more`,
        };
      }
      if (wanted > current || Number(facts.fs_bytes) < wanted) {
        const free = Number(facts.free_bytes);
        if (wanted - current > free) return { kind: 'refuse', reason: notEnoughDisk(file, wanted - current, free) };
        add('DO_GROW', `grow the volume from ${current / GIB} to ${gb} GiB`);
      }
    } else {
      const dir = facts.dir ?? '';
      if (dir.startsWith('data:')) {
        return {
          kind: 'refuse',
          reason: `/var/lib/docker holds data that is not on pcc's volume (${dir.slice(5).trim()}); move it away and run setup again — pcc never deletes Docker data`,
        };
      }
      if (!facts.file_bytes) {
        const free = Number(facts.free_bytes);
        if (wanted > free) return { kind: 'refuse', reason: notEnoughDisk(file, wanted, free) };
        add('DO_CREATE', `create a ${gb} GiB btrfs volume in ${file}`);
      } else if (Number(facts.file_bytes) !== wanted) {
        return {
          kind: 'refuse',
          reason: `${file} exists with ${Number(facts.file_bytes) / GIB} GiB but is not mounted; mount it or move it away, then run setup again`,
        };
      }
      add('DO_MOUNT', 'mount it at /var/lib/docker');
    }
    if (facts.fstab_ours !== '1') add('DO_FSTAB', 'mount it at every boot (/etc/fstab)');
    if (facts.dropin !== 'ok') add('DO_DROPIN', 'start Docker only once the volume is mounted');
    return changes.length === 0 ? { kind: 'unchanged' } : { kind: 'change', changes, apply };
  },
};

function notEnoughDisk(file: string, needed: number, free: number): string {
  return `not enough free disk for ${file}: it needs ${(needed / GIB).toFixed(1)} GiB, the filesystem has ${(free / GIB).toFixed(1)} GiB free; free some space or lower VARLIBDOCKER_GB`;
}
