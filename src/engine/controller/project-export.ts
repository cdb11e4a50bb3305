import path from 'node:path';
import { INIT_FOLDERS } from '../../providers/provider.js';
import { overlayAddress } from '../overlay/addressing.js';
import { unsupportedOs, type SetupStep, type StepContext, type StepPlan } from '../setup/step.js';

/** Where a folder of the workstation's project is on init, or undefined when init does not see it. */
function onInit(context: StepContext, folder: string): string | undefined {
  const relative = path.relative(context.config.root, folder);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  return path.posix.join(INIT_FOLDERS.project, ...relative.split(path.sep).filter(Boolean));
}

/** Whether `inner` lies in `outer` (or is it). */
function within(inner: string, outer: string): boolean {
  const relative = path.relative(outer, inner);
  return !relative.startsWith('..') && !path.isAbsolute(relative);
}

/**
 * Where init sees the shared folder, and the folders of it the share must never show: the project's
 * `.pcc/` (the registry's volume, logs) and `config/` (`config/.private` holds the AWS keys).
 * A whole folder is hidden, not the one file: an editor that saves by renaming would drop a mount
 * over a single file.
 */
export function exportPaths(context: StepContext): { exportDir: string | undefined; hideDirs: string[] } {
  const { config } = context;
  const exportDir = onInit(context, config.project.shareDir);
  const secretDirs = [config.stateDir, path.join(config.root, 'config')];
  const hideDirs = exportDir === undefined ? [] : secretDirs.filter((dir) => within(dir, config.project.shareDir)).map((dir) => onInit(context, dir) ?? '');
  return { exportDir, hideDirs };
}

/**
 * Who may mount the share: NFS_CLIENTS where set; otherwise each other member's own overlay
 * address, so a container on the overlay, or anything else in the subnet, is refused.
 */
export function shareClients(context: StepContext): string[] {
  if (context.settings.nfsClients) return context.settings.nfsClients;
  return context
    .members()
    .filter((member) => member.name !== context.host.name)
    .map((member) => `${overlayAddress(context.settings.overlay, member.index).address}/32`)
    .sort();
}

/**
 * The project folder served over NFSv4 from init by nfs-ganesha, read-write to the project's hosts
 * only, with root squashed to the folder's owner; `.pcc/` and `config/` are hidden from it. A folder
 * the provider shares through virtiofs or 9p is served through a bindfs view (see the script).
 */
export const projectExport: SetupStep = {
  id: 'project-export',
  script: 'controller/project-export',
  title: 'Project share (NFS server)',
  inputs: (context) => {
    const { exportDir, hideDirs } = exportPaths(context);
    return {
      EXPORT_DIR: exportDir ?? '',
      PSEUDO: context.settings.nfsExport,
      CLIENTS: shareClients(context).join(', '),
      HIDE_DIRS: hideDirs.join('\n'),
    };
  },
  plan(facts, context): StepPlan {
    const unsupported = unsupportedOs(facts);
    if (unsupported) return unsupported;
    const { exportDir, hideDirs } = exportPaths(context);
    if (!exportDir) {
      return { kind: 'refuse', reason: `PROJECT_DIR ${context.config.project.shareDir} is outside the project folder, which is all init can see; choose a folder inside it` };
    }
    if (facts.export_dir !== 'yes') {
      return { kind: 'refuse', reason: `init does not see the project folder at ${exportDir}: the provider did not sync it (pcc destroy init --yes, then pcc init)` };
    }
    const changes: string[] = [];
    const apply: Record<string, string> = {};
    if (facts.installed !== 'yes') {
      apply.DO_INSTALL = '1';
      changes.push('install nfs-ganesha');
    }
    if (facts.hidden !== 'ok') {
      apply.DO_HIDE = '1';
      changes.push(`hide ${hideDirs.map((dir) => path.posix.relative(exportDir, dir)).join(' and ')} from the share`);
    }
    if (facts.view === 'differs') {
      apply.DO_VIEW = '1';
      changes.push(`serve ${exportDir} through a bindfs view, whose file handles last (the provider's shared folder reuses them)`);
    }
    if (facts.conf !== 'ok') {
      apply.DO_CONF = '1';
      const clients = shareClients(context);
      changes.push(`export ${exportDir} as ${context.settings.nfsExport} to ${clients.length > 0 ? clients.join(', ') : 'no host yet'} (NFSv4, read-write, root squashed)`);
    }
    if (facts.active !== 'active') changes.push('start nfs-ganesha');
    return changes.length === 0 ? { kind: 'unchanged' } : { kind: 'change', changes, apply };
  },
};
