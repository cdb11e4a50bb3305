import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { privateStateDir } from '../private-state.js';
import { projectId } from '../project-id.js';
import { Secret } from '../secret.js';
import { parseEnvFile, type EnvEntry } from './envfile.js';
import { HOST_KEYS, KEYS, type ConfigFile, type ConfigKey, type KeyValue } from './schema.js';

/** Where a setting's value came from, for messages and `pcc config`. */
export type Source = { kind: 'file'; file: string; line: number } | { kind: 'env' } | { kind: 'default' };

/**
 * Settings this machine remembers for the project (`pcc settings set`, the quick start's choice of
 * local backend): below the environment, above config/ (which the project shares with others).
 */
export const SETTINGS_FILE = '.pcc/settings.env';

export type HostRole = 'init' | 'compute';

/** What every host of a role is told (global.env, overridden by init.env or compute.env). */
export interface HostSettings {
  registryHost: string;
  nfsServer: string;
  nfsExport: string;
  /** Networks the share is exported to (NFS_CLIENTS); undefined: each host's own overlay address. */
  nfsClients: string[] | undefined;
  /** Mount options for /project, with pcc's defaults when NFS_OPTS is empty. */
  nfsOpts: string;
  overlay: {
    driver: KeyValue<'OVERLAY_DRIVER'>;
    subnet: string;
    containerRange: string;
    port: number;
    mtu: number;
    weavePassword: Secret | undefined;
  };
  /** Idle stop: minutes undefined is off. */
  idleStop: { minutes: number | undefined; gpuPercent: number; minuteSeconds: number };
}

/** The whole, validated configuration of one pcc project. */
export interface Config {
  /** Absolute path of the project (the folder holding config/). */
  root: string;
  /** The Docker engine of this machine (Vagrant's docker backend, local image copies); undefined: Docker's default. */
  dockerHost: string | undefined;
  /** Absolute path of the project's own state in it (.pcc/): identity, settings, logs, builds, the registry volume. */
  stateDir: string;
  /** pcc's keys, host pins, machine definitions and host records, outside the project folder (`private-state.ts`). */
  privateDir: string;
  /** name: as people read it; id: the stable identity in tags and file names outside the project (`project-id.ts`). */
  project: { name: string; id: string; shareDir: string };
  varLibDocker: { gb: number; file: string };
  defaultProvider: KeyValue<'DEFAULT_PROVIDER'>;
  vagrant: {
    backend: KeyValue<'VAGRANT_PROVIDER'>;
    box: string;
    dockerImage: string | undefined;
    /** Vagrant's synced folder type for init's folders; undefined: the backend's default. */
    syncedFolderType: KeyValue<'VAGRANT_SYNCED_FOLDER_TYPE'> | undefined;
    libvirtDriver: KeyValue<'LIBVIRT_DRIVER'>;
    cpus: number;
    memoryMb: number;
  };
  registry: { image: string };
  aws: {
    region: string | undefined;
    accessKeyId: string | undefined;
    secretAccessKey: Secret | undefined;
    instanceTypes: { cpu: string; gpu: string };
    /** AMI overrides per compute type. */
    images: { cpu: string | undefined; gpu: string | undefined };
    sshUser: string;
    /** Unset until the user names who may connect: pcc opens nothing to the internet on its own. */
    sshCidrs: string[] | undefined;
    /** EC2_PRICES: the user's prices (USD) that replace the bundled table's, by instance type, ebs and snapshot. */
    prices: Record<string, number>;
  };
  /** Saved images older than this many days are warned about. */
  savedImageWarnDays: number;
  hosts: Record<HostRole, HostSettings>;
  /** Where each key's value came from. */
  sources: Partial<Record<ConfigKey, Source>>;
  /** Each key's value as written (secrets as [secret]), for `pcc doctor` and `pcc settings`. */
  written: Partial<Record<ConfigKey, string>>;
}

/** NFSv4.2, hard mounts (no silent data loss on a slow server), a minute before retrying. */
/** How init gets its folders when VAGRANT_SYNCED_FOLDER_TYPE is unset: VirtualBox's own shared folders cannot be served over NFS again, and virtiofs needs no server on this machine. */
const DEFAULT_SYNCED_FOLDER_TYPES: Record<KeyValue<'VAGRANT_PROVIDER'>, KeyValue<'VAGRANT_SYNCED_FOLDER_TYPE'> | undefined> = {
  virtualbox: 'nfs',
  libvirt: 'virtiofs',
  docker: undefined,
};

export const DEFAULT_NFS_OPTS = 'vers=4.2,hard,timeo=600,retrans=2,noatime';

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\x00-\x1f\x7f]/;

const FILES: ConfigFile[] = ['project.env', 'hosts/global.env', 'hosts/init.env', 'hosts/compute.env', '.private'];

interface RawValue {
  value: string;
  source: Source;
}

/**
 * Reads config/*.env of a project, applies environment overrides, and validates everything into one
 * Config. Any bad value stops with a ConfigError that names file:line (or the variable), the key and
 * what is accepted.
 */
export function loadConfig(root: string, env: NodeJS.ProcessEnv = process.env): Config {
  const configDir = path.join(root, 'config');
  const layers = new Map<ConfigFile, Map<ConfigKey, RawValue>>();
  for (const file of FILES) {
    const fullPath = path.join(configDir, file);
    const shown = path.join('config', file);
    const entries = existsSync(fullPath) ? parseEnvFile(readFileSync(fullPath, 'utf8'), shown) : [];
    layers.set(file, new Map(entries.map((entry) => [checkKeyPlacement(entry, file), fromEntry(entry)])));
  }

  const overrides = new Map<ConfigKey, RawValue>();
  for (const key of Object.keys(KEYS) as ConfigKey[]) {
    const value = env[key];
    if (value !== undefined) overrides.set(key, { value, source: { kind: 'env' } });
  }
  const remembered = readSettingsFile(root);

  const resolve = (key: ConfigKey, role?: HostRole): RawValue | undefined =>
    overrides.get(key) ??
    remembered.get(key) ??
    (role ? layers.get(`hosts/${role}.env`)?.get(key) : undefined) ??
    layers.get(KEYS[key].file)?.get(key) ??
    (KEYS[key].default === undefined ? undefined : { value: KEYS[key].default, source: { kind: 'default' } });

  const sources: Partial<Record<ConfigKey, Source>> = {};
  const written: Partial<Record<ConfigKey, string>> = {};
  const read = <K extends ConfigKey>(key: K, role?: HostRole): KeyValue<K> | undefined => {
    const raw = resolve(key, role);
    if (!raw) return undefined;
    if (!role) {
      sources[key] = raw.source;
      written[key] = 'secret' in KEYS[key] ? '[secret]' : raw.value;
    }
    if (CONTROL_CHARACTER.test(raw.value)) {
      throw new ConfigError(`${describeSource(raw.source, key)}: ${key}: the value holds a control character (a line break, tab or escape)`, 'Write it on one line, without control characters.');
    }
    const result = KEYS[key].schema.safeParse(raw.value);
    if (!result.success) {
      const shown = 'secret' in KEYS[key] ? '[secret]' : JSON.stringify(raw.value);
      throw new ConfigError(`${describeSource(raw.source, key)}: ${key}=${shown}: ${result.error.issues[0]?.message}`);
    }
    return result.data as KeyValue<K>;
  };
  const required = <K extends ConfigKey>(key: K, role?: HostRole): KeyValue<K> => {
    const value = read(key, role);
    if (value === undefined) throw new ConfigError(`${key} is not set`, `Set it in config/${KEYS[key].file}.`);
    return value;
  };

  const hostSettings = (role: HostRole): HostSettings => {
    const weavePassword = read('WEAVE_PASSWORD', role);
    return {
      registryHost: required('REGISTRY_HOST', role),
      nfsServer: required('NFS_SERVER', role),
      nfsExport: required('NFS_EXPORT', role),
      nfsClients: read('NFS_CLIENTS', role),
      nfsOpts: required('NFS_OPTS', role) || DEFAULT_NFS_OPTS,
      overlay: {
        driver: required('OVERLAY_DRIVER', role),
        subnet: required('OVERLAY_SUBNET', role),
        containerRange: required('OVERLAY_CONTAINER_RANGE', role),
        port: required('OVERLAY_PORT', role),
        mtu: required('OVERLAY_MTU', role),
        weavePassword: weavePassword === undefined ? undefined : new Secret(weavePassword),
      },
      idleStop: {
        minutes: read('IDLE_STOP_MINUTES', role),
        gpuPercent: required('IDLE_STOP_GPU_PERCENT', role),
        minuteSeconds: required('IDLE_STOP_MINUTE_SECONDS', role),
      },
    };
  };
  // Validate role overrides first so an error points at the file that holds the bad value.
  const hosts = { init: hostSettings('init'), compute: hostSettings('compute') };
  for (const key of HOST_KEYS) read(key);

  const backend = required('VAGRANT_PROVIDER');
  const dockerImage = read('VAGRANT_DOCKER_IMAGE');
  if (backend === 'docker' && dockerImage === undefined) {
    throw new ConfigError(
      `${describeSource(sources.VAGRANT_PROVIDER, 'VAGRANT_PROVIDER')}: VAGRANT_PROVIDER=docker needs VAGRANT_DOCKER_IMAGE`,
      'Set VAGRANT_DOCKER_IMAGE to a machine image with systemd and sshd (`npm run fleet:up` prints one).',
    );
  }
  const accessKeyId = read('AWS_ACCESS_KEY_ID');
  const secretAccessKey = read('AWS_SECRET_ACCESS_KEY');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    const [present, missing] = accessKeyId === undefined
      ? (['AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID'] as const)
      : (['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const);
    throw new ConfigError(
      `${describeSource(sources[present], present)}: ${present} is set but ${missing} is not`,
      'Set both keys in config/.private, or neither to use the AWS SDK default chain.',
    );
  }

  const name = read('PROJECT_NAME') ?? defaultProjectName(root);
  const stateDir = path.join(root, '.pcc');
  const id = projectId(stateDir, name);
  return {
    root,
    dockerHost: read('DOCKER_HOST'),
    stateDir,
    privateDir: privateStateDir(root, env, id),
    project: { name, id, shareDir: path.resolve(root, required('PROJECT_DIR')) },
    varLibDocker: { gb: required('VARLIBDOCKER_GB'), file: required('VARLIBDOCKER_FILE') },
    defaultProvider: required('DEFAULT_PROVIDER'),
    vagrant: {
      backend,
      box: required('VAGRANT_BOX'),
      dockerImage,
      syncedFolderType: read('VAGRANT_SYNCED_FOLDER_TYPE') ?? DEFAULT_SYNCED_FOLDER_TYPES[backend],
      libvirtDriver: required('LIBVIRT_DRIVER'),
      cpus: required('VAGRANT_CPUS'),
      memoryMb: required('VAGRANT_MEMORY_MB'),
    },
    registry: { image: required('REGISTRY_IMAGE') },
    aws: {
      region: read('AWS_REGION'),
      accessKeyId,
      secretAccessKey: secretAccessKey === undefined ? undefined : new Secret(secretAccessKey),
      instanceTypes: { cpu: required('EC2_INSTANCE_TYPE_CPU'), gpu: required('EC2_INSTANCE_TYPE_GPU') },
      images: { cpu: read('EC2_AMI_CPU'), gpu: read('EC2_AMI_GPU') },
      sshUser: required('EC2_SSH_USER'),
      sshCidrs: read('EC2_SSH_CIDRS'),
      prices: read('EC2_PRICES') ?? {},
    },
    savedImageWarnDays: required('SAVED_IMAGE_WARN_DAYS'),
    hosts,
    sources,
    written,
  };
}

/** Every setting that is not pcc's default, with where it comes from. */
export function configuredSettings(config: Config): { key: ConfigKey; value: string; from: string }[] {
  return (Object.keys(config.sources) as ConfigKey[])
    .filter((key) => config.sources[key]?.kind !== 'default')
    .sort()
    .map((key) => ({ key, value: config.written[key] ?? '', from: describeSource(config.sources[key], key) }));
}

export function describeSource(source: Source | undefined, key: ConfigKey): string {
  switch (source?.kind ?? 'default') {
    case 'file':
      return source?.kind === 'file' ? `${source.file}:${source.line}` : key;
    case 'env':
      return `environment variable ${key}`;
    case 'default':
      return `default of ${key}`;
  }
}

/** The environment pcc's tools run in: the configured DOCKER_HOST added where the environment has none. */
export function toolEnv(config: Config, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return config.dockerHost === undefined || env.DOCKER_HOST !== undefined ? env : { ...env, DOCKER_HOST: config.dockerHost };
}

/** The remembered settings; secrets never live there (they stay in config/.private). */
function readSettingsFile(root: string): Map<ConfigKey, RawValue> {
  const fullPath = path.join(root, SETTINGS_FILE);
  if (!existsSync(fullPath)) return new Map();
  const entries = parseEnvFile(readFileSync(fullPath, 'utf8'), SETTINGS_FILE);
  return new Map(entries.map((entry) => [checkRememberable(entry.key, `${entry.file}:${entry.line}`), fromEntry(entry)]));
}

/** A key that may be remembered in the settings file: a known key that is no secret. */
export function checkRememberable(key: string, where: string): ConfigKey {
  if (!(key in KEYS)) {
    const suggestion = closestKey(key);
    throw new ConfigError(`${where}: ${key}: unknown key`, suggestion ? `Did you mean ${suggestion}? The README lists every key.` : 'The README lists every key pcc reads.');
  }
  if (KEYS[key as ConfigKey].file === '.private') {
    throw new ConfigError(`${where}: ${key} is a secret and is not remembered here`, 'Keep it in config/.private (mode 0600) or in the environment.');
  }
  return key as ConfigKey;
}

function fromEntry(entry: EnvEntry): RawValue {
  return { value: entry.value, source: { kind: 'file', file: entry.file, line: entry.line } };
}

/** Accepts a key only in the file it belongs to (host keys also in the role files). */
function checkKeyPlacement(entry: EnvEntry, file: ConfigFile): ConfigKey {
  const where = `${entry.file}:${entry.line}`;
  if (!(entry.key in KEYS)) {
    const suggestion = closestKey(entry.key);
    throw new ConfigError(
      `${where}: ${entry.key}: unknown key`,
      suggestion ? `Did you mean ${suggestion}? The README lists every key.` : 'The README lists every key pcc reads.',
    );
  }
  const key = entry.key as ConfigKey;
  const home = KEYS[key].file;
  const roleFile = file === 'hosts/init.env' || file === 'hosts/compute.env';
  if (home !== file && !(roleFile && home === 'hosts/global.env')) {
    throw new ConfigError(`${where}: ${key} does not belong in this file`, `Move it to config/${home}.`);
  }
  return key;
}

function closestKey(unknown: string): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const key of Object.keys(KEYS)) {
    const distance = editDistance(unknown.toUpperCase(), key);
    if (!best || distance < best.distance) best = { key, distance };
  }
  return best && best.distance <= 3 ? best.key : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function defaultProjectName(root: string): string {
  const cleaned = path
    .basename(root)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return cleaned || 'pcc';
}
