import { mergeDaemonJson, withoutPccDaemonKeys } from './daemon-json.js';
import type { SetupStep, StepPlan } from './step.js';
import { unsupportedOs } from './step.js';

/** Docker installed and running on the btrfs volume, with pcc's keys merged into daemon.json. */
export const dockerEngine: SetupStep = {
  id: 'docker-engine',
  title: 'Docker engine',
  inputs: ({ host }) => ({ STORAGE_DRIVER: host.keepDockerStorage ? '' : 'btrfs' }),
  removal: {
    keptWithSetup: true,
    needsFacts: true,
    inputs: (_context, facts) => {
      const left = withoutPccDaemonKeys(facts?.daemon_json);
      return { DAEMON_JSON_B64: left === undefined || left === 'delete' ? (left ?? '') : Buffer.from(left).toString('base64') };
    },
  },
  plan(facts, { settings, host }): StepPlan {
    const unsupported = unsupportedOs(facts);
    if (unsupported) return unsupported;
    const changes: string[] = [];
    const apply: Record<string, string> = {};
    if (facts.installed !== 'yes') {
      apply.DO_INSTALL = '1';
      changes.push('install docker.io');
    }
    const onBtrfs = !host.keepDockerStorage;
    const merged = mergeDaemonJson(facts.daemon_json, { ...(onBtrfs ? { storageDriver: 'btrfs' as const } : {}), secureRegistries: [settings.registryHost] });
    if (merged !== undefined) {
      apply.DAEMON_JSON_B64 = Buffer.from(merged).toString('base64');
      apply.DO_RESTART = '1';
      changes.push(`merge pcc's keys into /etc/docker/daemon.json: ${onBtrfs ? 'storage-driver btrfs, containerd-snapshotter off, ' : ''}the registry not listed as insecure`);
    }
    if (facts.active !== 'active' || facts.enabled !== 'enabled') {
      changes.push('enable and start Docker');
    } else if (onBtrfs && facts.driver !== 'btrfs' && !apply.DO_RESTART) {
      apply.DO_RESTART = '1';
      changes.push(`restart Docker (it runs on ${facts.driver || 'an unknown driver'}, not btrfs)`);
    }
    return changes.length === 0 ? { kind: 'unchanged' } : { kind: 'change', changes, apply };
  },
};
