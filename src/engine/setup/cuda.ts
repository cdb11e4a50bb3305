import { mergeDaemonJson } from './daemon-json.js';
import type { Facts, SetupStep, StepPlan } from './step.js';
import { unsupportedOs } from './step.js';

/** The NVIDIA GPUs (PCI addresses) a host's facts list. */
export function detectedGpus(facts: Facts): string[] {
  return (facts.gpus ?? '').split(' ').filter(Boolean);
}

/** On NVIDIA GPU hosts: driver, Container Toolkit, the `nvidia` Docker runtime and nvidia_uvm. */
export const cuda: SetupStep = {
  id: 'cuda',
  title: 'CUDA (NVIDIA GPUs)',
  inputs: () => ({}),
  plan(facts): StepPlan {
    const unsupported = unsupportedOs(facts);
    if (unsupported) return unsupported;
    const gpus = detectedGpus(facts);
    if (gpus.length === 0) return { kind: 'unchanged', note: 'no GPU' };
    const changes: string[] = [];
    const apply: Record<string, string> = {};
    if (facts.driver !== 'ok') {
      apply.DO_DRIVER = '1';
      changes.push('install the NVIDIA driver');
    }
    if (facts.toolkit !== 'ok') {
      apply.DO_TOOLKIT = '1';
      changes.push('install the NVIDIA Container Toolkit');
    }
    const merged = mergeDaemonJson(facts.daemon_json, { nvidiaRuntime: true });
    if (merged !== undefined) {
      apply.DAEMON_JSON_B64 = Buffer.from(merged).toString('base64');
      changes.push('add the nvidia runtime to /etc/docker/daemon.json');
    }
    if (facts.uvm !== 'loaded') {
      apply.DO_UVM = '1';
      changes.push('load the nvidia_uvm module');
    }
    const found = `${gpus.length} NVIDIA GPU${gpus.length > 1 ? 's' : ''} (${gpus.join(', ')})`;
    return changes.length === 0 ? { kind: 'unchanged', note: found } : { kind: 'change', changes: [`${found}:`, ...changes], apply };
  },
  /** The host's compute-type group follows GPU detection (and renames its SSH aliases). */
  async settled(engine, host, facts) {
    const computeType = detectedGpus(facts).length > 0 ? 'gpu' : 'cpu';
    const changed = await engine.state.update((state) => {
      const record = state.hosts[host.name];
      if (!record || record.computeType === computeType) return false;
      record.computeType = computeType;
      return true;
    });
    if (changed) await engine.sshConfig.writeHosts(engine.state.read().hosts);
  },
};
