import type { SetupStep, StepPlan } from './step.js';
import { unsupportedOs } from './step.js';

/** The controller's NFS export at /project, mounted on first access and at every boot. */
export const projectShare: SetupStep = {
  id: 'project-share',
  removal: { inputs: () => ({}) },
  title: 'Project share at /project (NFS)',
  inputs: ({ settings }) => ({ NFS_SERVER: settings.nfsServer, NFS_EXPORT: settings.nfsExport, NFS_OPTS: settings.nfsOpts }),
  plan(facts, { settings }): StepPlan {
    const unsupported = unsupportedOs(facts);
    if (unsupported) return unsupported;
    if (facts.kernel_nfs === 'no') {
      return {
        kind: 'refuse',
        reason: "this host's kernel has no NFS client (no nfs in /proc/filesystems and no nfs module to load), so /project cannot be mounted; use a kernel with NFS support (stock Debian and Ubuntu kernels have it)",
      };
    }
    const changes: string[] = [];
    const apply: Record<string, string> = {};
    if (facts.kernel_nfs === 'module') apply.DO_KERNEL_MODULE = '1';
    if (facts.client !== 'yes') {
      apply.DO_INSTALL = '1';
      changes.push('install nfs-common');
    }
    if (facts.units !== 'ok') {
      apply.DO_UNITS = '1';
      changes.push(`mount ${settings.nfsServer}:${settings.nfsExport} at /project (${settings.nfsOpts}) through systemd units`);
    }
    if (facts.mount === 'stale') {
      apply.DO_REMOUNT = '1';
      changes.push(`mount /project again: its handles are stale (${settings.nfsServer} restarted)`);
    }
    if (facts.automount !== 'active' || facts.enabled !== 'enabled') changes.push('enable and start project.automount');
    return changes.length === 0 ? { kind: 'unchanged' } : { kind: 'change', changes, apply };
  },
};

/**
 * The share step for hosts whose server restarted (init resumed): their mount holds file handles the
 * new server never gave out, whether or not one has failed yet, so a mounted share is mounted again.
 */
export const projectShareAfterServerRestart: SetupStep = {
  ...projectShare,
  plan: (facts, context) => projectShare.plan(facts.mount === 'ok' ? { ...facts, mount: 'stale' } : facts, context),
};
