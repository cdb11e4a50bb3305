import { isDeepStrictEqual } from 'node:util';
import { PccError } from '../../core/errors.js';

/** What pcc needs in /etc/docker/daemon.json; everything else in the file is the user's and stays. */
export interface DaemonJsonWants {
  storageDriver?: 'btrfs';
  /** Registries reached with TLS now: earlier pcc versions listed them as insecure. */
  secureRegistries?: string[];
  nvidiaRuntime?: boolean;
  /** The host's GPUs (UUIDs) as Swarm generic resources; [] takes pcc's entries out. */
  swarmGpus?: string[];
  /** `nvidia` as the default runtime: Swarm services cannot name a runtime, and GPU tasks need it. */
  nvidiaDefaultRuntime?: boolean;
}

/** The kind of generic resource a GPU host advertises to Swarm (`pcc run --gpus`). */
export const SWARM_GPU_KIND = 'NVIDIA-GPU';

function withoutSwarmGpus(value: unknown): string[] {
  return (Array.isArray(value) ? (value as unknown[]) : []).filter((entry): entry is string => typeof entry === 'string' && !entry.startsWith(`${SWARM_GPU_KIND}=`));
}

/**
 * Merges pcc's keys into the current daemon.json (base64 of its text, or "absent"). Returns the new
 * text, or undefined when the file already says everything pcc needs (so it is not rewritten and
 * Docker is not restarted). A file that is not a JSON object is an error, never overwritten.
 */
export function mergeDaemonJson(currentB64: string | undefined, wants: DaemonJsonWants): string | undefined {
  const current = parseJsonObjectFile(currentB64, '/etc/docker/daemon.json');
  const merged: Record<string, unknown> = structuredClone(current);
  if (wants.storageDriver) {
    merged['storage-driver'] = wants.storageDriver;
    // Docker >= 29 keeps images in containerd unless this is off, bypassing the btrfs volume.
    merged.features = { ...asObject(merged.features), 'containerd-snapshotter': false };
  }
  if (wants.secureRegistries?.length && Array.isArray(merged['insecure-registries'])) {
    const kept = (merged['insecure-registries'] as unknown[]).filter((registry) => !wants.secureRegistries?.includes(registry as string));
    if (kept.length > 0) merged['insecure-registries'] = kept;
    else delete merged['insecure-registries'];
  }
  if (wants.nvidiaRuntime) {
    merged.runtimes = { ...asObject(merged.runtimes), nvidia: { path: 'nvidia-container-runtime', args: [] } };
  }
  if (wants.swarmGpus) {
    const resources = [...withoutSwarmGpus(merged['node-generic-resources']), ...wants.swarmGpus.map((uuid) => `${SWARM_GPU_KIND}=${uuid}`)];
    if (resources.length > 0) merged['node-generic-resources'] = resources;
    else delete merged['node-generic-resources'];
  }
  if (wants.nvidiaDefaultRuntime) merged['default-runtime'] = 'nvidia';
  return isDeepStrictEqual(merged, current) ? undefined : `${JSON.stringify(merged, null, 2)}\n`;
}

/**
 * daemon.json without the keys pcc merges in (btrfs storage, the containerd snapshotter off, the
 * nvidia runtime, Swarm's GPUs): the new text, `delete` when nothing else was in the file, undefined when unchanged.
 */
export function withoutPccDaemonKeys(currentB64: string | undefined): string | 'delete' | undefined {
  const current = parseJsonObjectFile(currentB64, '/etc/docker/daemon.json');
  const left: Record<string, unknown> = structuredClone(current);
  if (left['storage-driver'] === 'btrfs') delete left['storage-driver'];
  const features = { ...asObject(left.features) };
  if (features['containerd-snapshotter'] === false) delete features['containerd-snapshotter'];
  if (Object.keys(features).length > 0) left.features = features;
  else delete left.features;
  const runtimes = { ...asObject(left.runtimes) };
  if (asObject(runtimes.nvidia).path === 'nvidia-container-runtime') delete runtimes.nvidia;
  if (left['default-runtime'] === 'nvidia') delete left['default-runtime'];
  const resources = withoutSwarmGpus(left['node-generic-resources']);
  if (resources.length > 0) left['node-generic-resources'] = resources;
  else delete left['node-generic-resources'];
  if (Object.keys(runtimes).length > 0) left.runtimes = runtimes;
  else delete left.runtimes;
  if (isDeepStrictEqual(left, current)) return undefined;
  return Object.keys(left).length === 0 ? 'delete' : `${JSON.stringify(left, null, 2)}\n`;
}

/** A host's JSON file (base64 of its text, or "absent") as an object; anything else is an error naming it. */
export function parseJsonObjectFile(currentB64: string | undefined, file: string): Record<string, unknown> {
  if (!currentB64 || currentB64 === 'absent') return {};
  const text = Buffer.from(currentB64, 'base64').toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new PccError(`${file} is not valid JSON (${(error as Error).message})`, {
      hint: 'Fix or remove the file on the host; pcc merges its keys into it and never overwrites it.',
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new PccError(`${file} is not a JSON object`, { hint: 'Fix the file on the host; pcc merges its keys into it.' });
  }
  return parsed as Record<string, unknown>;
}

export function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
