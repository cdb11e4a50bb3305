import path from 'node:path';
import { INIT_FOLDERS } from '../../providers/provider.js';
import { unsupportedOs, type SetupStep, type StepContext, type StepPlan } from '../setup/step.js';

/** Where init sees the shared folder and pcc's state folder, if the share holds it. */
export function exportPaths({ config }: StepContext): { exportDir: string | undefined; hideDir: string } {
  const relative = path.relative(config.root, config.project.shareDir);
  const inside = !relative.startsWith('..') && !path.isAbsolute(relative);
  const exportDir = inside ? path.posix.join(INIT_FOLDERS.project, ...relative.split(path.sep).filter(Boolean)) : undefined;
  const stateRelative = path.relative(config.project.shareDir, config.stateDir);
  const stateInside = !stateRelative.startsWith('..') && !path.isAbsolute(stateRelative);
  const hideDir = inside && stateInside ? path.posix.join(exportDir ?? '', ...stateRelative.split(path.sep)) : '';
  return { exportDir, hideDir };
}

/**
 * The project folder served over NFSv4 from init by nfs-ganesha, to NFS_CLIENTS only; pcc's `.pcc/`
 * (keys, state) is hidden from the share.
 */
export const projectExport: SetupStep = {
  id: 'project-export',
  script: 'controller/project-export',
  title: 'Project share (NFS server)',
  inputs: (context) => {
    const { exportDir, hideDir } = exportPaths(context);
    return {
      EXPORT_DIR: exportDir ?? '',
      PSEUDO: context.settings.nfsExport,
      CLIENTS: context.settings.nfsClients.join(', '),
      HIDE_DIR: hideDir,
    };
  },
  plan(facts, context): StepPlan {
    const unsupported = unsupportedOs(facts);
    if (unsupported) return unsupported;
    const { exportDir } = exportPaths(context);
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
      changes.push("hide pcc's state folder (.pcc) from the share");
    }
    if (facts.conf !== 'ok') {
      apply.DO_CONF = '1';
      changes.push(`export ${exportDir} as ${context.settings.nfsExport} to ${context.settings.nfsClients.join(', ')} (NFSv4, read-write)`);
    }
    if (facts.active !== 'active') changes.push('start nfs-ganesha');
    return changes.length === 0 ? { kind: 'unchanged' } : { kind: 'change', changes, apply };
  },
};
