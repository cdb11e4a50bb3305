import { describeError } from '../../core/errors.js';
import { providerOutput, type Engine } from '../engine.js';
import type { HostRecord } from '../state.js';
import type { StepContext, SetupStep, StepPlan } from './step.js';
import { unsupportedOs } from './step.js';

const GIB = 1024 ** 3;

export interface BtrfsVolumeOptions {
  id: string;
  title: string;
  mountDir: string;
  /** The loop file on the host. */
  file(context: StepContext): string;
  /** A systemd unit that must start only once the volume is mounted. */
  orderUnit?: string;
  /** Another way out, said when the mount point already holds data. */
  dataHint?(context: StepContext): string;
}

/**
 * A step that keeps a btrfs filesystem of VARLIBDOCKER_GB in a loop file mounted at `mountDir` at
 * every boot: made if absent, grown in place if VARLIBDOCKER_GB grew, never shrunk, never mounted
 * over data. Shell: btrfs-volume.sh.
 */
export function btrfsVolumeStep(options: BtrfsVolumeOptions): SetupStep {
  return {
    id: options.id,
    title: options.title,
    script: 'setup/btrfs-volume',
    inputs: (context) => ({
      VOLUME_FILE: options.file(context),
      VOLUME_GB: String(context.config.varLibDocker.gb),
      MOUNT_DIR: options.mountDir,
      ORDER_UNIT: options.orderUnit ?? '',
    }),
    plan(facts, context): StepPlan {
      const unsupported = unsupportedOs(facts);
      if (unsupported) return unsupported;
      const file = options.file(context);
      const dir = options.mountDir;
      const gb = context.config.varLibDocker.gb;
      const wanted = gb * GIB;
      const changes: string[] = [];
      const apply: Record<string, string> = {};
      const add = (flag: string, change: string) => {
        apply[flag] = '1';
        changes.push(change);
      };
      const free = Number(facts.free_bytes);
      const growable = Number(facts.root_growable ?? 0);
      /** Room for `needed` more bytes: there already, after growing the root partition, or none. */
      const makeRoom = (needed: number): string | undefined => {
        if (needed <= free) return undefined;
        if (needed > free + growable) return notEnoughDisk(file, needed, free + growable);
        add('DO_GROW_ROOT', `grow ${facts.root_partition} and its ${facts.root_fstype} filesystem by ${(growable / GIB).toFixed(1)} GiB into its disk`);
        Object.assign(apply, {
          ROOT_DISK: facts.root_disk ?? '',
          ROOT_PARTNUM: facts.root_partnum ?? '',
          ROOT_PARTITION: facts.root_partition ?? '',
          ROOT_FSTYPE: facts.root_fstype ?? '',
          ROOT_MOUNT: facts.root_mount ?? '',
        });
        return undefined;
      };

      if (Number(facts.fstab_others ?? 0) > 0) {
        return { kind: 'refuse', reason: `/etc/fstab already mounts something else at ${dir}; remove that line, pcc adds its own` };
      }
      if (facts.mkfs !== 'yes') add('DO_INSTALL', 'install btrfs-progs');

      if (facts.mount_fstype) {
        if (facts.mount_fstype !== 'btrfs' || facts.mount_backing !== file) {
          return {
            kind: 'refuse',
            reason: `${dir} is already a ${facts.mount_fstype} mount of ${facts.mount_backing || facts.mount_source}, not pcc's volume ${file}; unmount it (keeping its data elsewhere) and run setup again`,
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
          const noRoom = makeRoom(wanted - current);
          if (noRoom) return { kind: 'refuse', reason: noRoom };
          add('DO_GROW', `grow the volume from ${current / GIB} to ${gb} GiB`);
        }
      } else {
        const state = facts.dir ?? '';
        if (state.startsWith('data:')) {
          return {
            kind: 'refuse',
            reason: `${dir} holds data that is not on pcc's volume (${state.slice(5).trim()}); move it away and run setup again${options.dataHint ? `, or ${options.dataHint(context)}` : ''} — pcc never deletes that data`,
          };
        }
        if (!facts.file_bytes) {
          const noRoom = makeRoom(wanted);
          if (noRoom) return { kind: 'refuse', reason: noRoom };
          add('DO_CREATE', `create a ${gb} GiB btrfs volume in ${file}`);
        } else if (Number(facts.file_bytes) > wanted) {
          return {
            kind: 'refuse',
            reason: `VARLIBDOCKER_GB=${gb} is smaller than the existing ${Number(facts.file_bytes) / GIB} GiB volume ${file}: pcc does not shrink it; set VARLIBDOCKER_GB=${Number(facts.file_bytes) / GIB} or more`,
          };
        } else if (Number(facts.file_bytes) < wanted) {
          const noRoom = makeRoom(wanted - Number(facts.file_bytes));
          if (noRoom) return { kind: 'refuse', reason: noRoom };
          add('DO_GROW', `grow the volume from ${Number(facts.file_bytes) / GIB} to ${gb} GiB`);
        }
        add('DO_MOUNT', `mount it at ${dir}`);
      }
      if (facts.fstab_ours !== '1') add('DO_FSTAB', 'mount it at every boot (/etc/fstab)');
      if (facts.dropin !== 'ok') add('DO_DROPIN', `start ${options.orderUnit} only once the volume is mounted`);
      return changes.length === 0 ? { kind: 'unchanged' } : { kind: 'change', changes, apply };
    },
  };
}

const dockerStorageVolume = btrfsVolumeStep({
  id: 'docker-storage',
  title: 'Docker storage on btrfs',
  mountDir: '/var/lib/docker',
  file: ({ config }) => config.varLibDocker.file,
  orderUnit: 'docker.service',
  dataHint: ({ host }) => `keep Docker's own storage on this machine: pcc setup ${host.name} --keep-docker-storage`,
});

/**
 * /var/lib/docker on a btrfs volume in a loop file of VARLIBDOCKER_GB (the original's btrfs branch).
 * Before it runs, providers that can grow a machine's disk (EC2) make room for a larger volume.
 */
export const dockerStorage: SetupStep = {
  ...dockerStorageVolume,
  plan: (facts, context) =>
    context.host.keepDockerStorage ? { kind: 'unchanged', note: "Docker's own storage on this machine, kept (--keep-docker-storage)" } : dockerStorageVolume.plan(facts, context),
  prepare: fitDisks,
  removal: { keptWithSetup: true, inputs: dockerStorageVolume.inputs },
};

/**
 * Asks each provider to grow its running hosts' disks for VARLIBDOCKER_GB. A provider that cannot
 * (AWS allows one change per volume every 6 hours) is reported, and the step then refuses on the
 * hosts that lack room, saying so; the other hosts are set up all the same.
 */
async function fitDisks(engine: Engine, hosts: HostRecord[]): Promise<void> {
  const running = hosts.filter((host) => host.state === 'running');
  for (const [name, provider] of engine.providers) {
    const names = running.filter((host) => host.provider === name).map((host) => host.name);
    if (names.length === 0 || !provider.fitDisks) continue;
    try {
      await provider.fitDisks(names, engine.config.varLibDocker.gb, providerOutput(engine));
    } catch (error) {
      engine.events.emit({ type: 'log', level: 'warn', message: describeError(error) });
    }
  }
}

function notEnoughDisk(file: string, needed: number, free: number): string {
  return `not enough free disk for ${file}: it needs ${(needed / GIB).toFixed(1)} GiB, the filesystem has ${(free / GIB).toFixed(1)} GiB free; free some space or lower VARLIBDOCKER_GB`;
}
