import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { createEngine } from '../../src/engine/engine.js';
import { cuda } from '../../src/engine/setup/cuda.js';
import { mergeDaemonJson, withoutPccDaemonKeys } from '../../src/engine/setup/daemon-json.js';
import { dockerEngine } from '../../src/engine/setup/docker-engine.js';
import { dockerStorage } from '../../src/engine/setup/docker-storage.js';
import { idleStop } from '../../src/engine/setup/idle-stop.js';
import { projectShare, projectShareAfterServerRestart } from '../../src/engine/setup/project-share.js';
import { INSTANCE_METADATA, spotWatch } from '../../src/engine/setup/spot-watch.js';
import { failureLines, setupHosts } from '../../src/engine/setup/setup.js';
import { registryAccess, withCredentialHelper, withoutCredentialHelper } from '../../src/engine/setup/registry-access.js';
import { registryCredentials } from '../../src/engine/registry-credentials.js';
import { stepScript, type Facts, type StepContext } from '../../src/engine/setup/step.js';
import type { HostRecord } from '../../src/engine/state.js';
import { makeProject, tempDir } from '../helpers/project.js';

const GIB = 1024 ** 3;
const host: HostRecord = {
  name: 'vagrant1', provider: 'vagrant', role: 'compute', computeType: 'cpu', state: 'running', extras: {}, createdAt: '', updatedAt: '',
};
function context(projectEnv = 'VARLIBDOCKER_GB=3\n'): StepContext {
  const config = loadConfig(makeProject({ 'project.env': projectEnv }), {});
  return { host, config, settings: config.hosts.compute, members: () => [] };
}
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

const FRESH: Facts = {
  os: 'debian', mkfs: 'yes', mount_fstype: '', mount_source: '', mount_backing: '', fs_bytes: '', file_bytes: '',
  dir: 'absent', free_bytes: String(50 * GIB), fstab_ours: '0', fstab_others: '0', dropin: 'differs',
};
const DONE: Facts = {
  ...FRESH, mount_fstype: 'btrfs', mount_source: '/dev/loop0', mount_backing: '/var/lib/docker.btrfs',
  fs_bytes: String(3 * GIB), file_bytes: String(3 * GIB), dir: 'mounted', fstab_ours: '1', dropin: 'ok',
};

describe('docker-storage plan', () => {
  it('creates, mounts and persists a volume on a fresh host', () => {
    const plan = dockerStorage.plan(FRESH, context());
    expect(plan).toEqual({
      kind: 'change',
      changes: ['create a 3 GiB btrfs volume in /var/lib/docker.btrfs', 'mount it at /var/lib/docker', 'mount it at every boot (/etc/fstab)', 'start docker.service only once the volume is mounted'],
      apply: { DO_CREATE: '1', DO_MOUNT: '1', DO_FSTAB: '1', DO_DROPIN: '1' },
    });
  });

  it('changes nothing when the volume is in place', () => {
    expect(dockerStorage.plan(DONE, context())).toEqual({ kind: 'unchanged' });
  });

  it('takes over an empty or pcc-made directory, remounts an existing volume', () => {
    expect(dockerStorage.plan({ ...FRESH, dir: 'empty' }, context()).kind).toBe('change');
    expect(dockerStorage.plan({ ...FRESH, dir: 'pcc', file_bytes: String(3 * GIB), fstab_ours: '1', dropin: 'ok' }, context()))
      .toEqual({ kind: 'change', changes: ['mount it at /var/lib/docker'], apply: { DO_MOUNT: '1' } });
  });

  it('grows a larger VARLIBDOCKER_GB in place', () => {
    expect(dockerStorage.plan(DONE, context('VARLIBDOCKER_GB=5\n'))).toEqual({ kind: 'change', changes: ['grow the volume from 3 to 5 GiB'], apply: { DO_GROW: '1' } });
  });

  const GROWABLE_ROOT: Facts = {
    root_growable: String(4 * GIB), root_partition: '/dev/nvme0n1p1', root_disk: '/dev/nvme0n1', root_partnum: '1', root_fstype: 'ext4', root_mount: '/',
  };

  it('grows the root partition into its larger disk first when the volume needs the room, and only then', () => {
    const short = { ...DONE, ...GROWABLE_ROOT, free_bytes: String(GIB) };
    expect(dockerStorage.plan(short, context('VARLIBDOCKER_GB=6\n'))).toEqual({
      kind: 'change',
      changes: ['grow /dev/nvme0n1p1 and its ext4 filesystem by 4.0 GiB into its disk', 'grow the volume from 3 to 6 GiB'],
      apply: { DO_GROW_ROOT: '1', ROOT_DISK: '/dev/nvme0n1', ROOT_PARTNUM: '1', ROOT_PARTITION: '/dev/nvme0n1p1', ROOT_FSTYPE: 'ext4', ROOT_MOUNT: '/', DO_GROW: '1' },
    });
    // Room enough already: the partition is left as it is (on a user's own machine free space may be meant).
    expect(dockerStorage.plan({ ...short, free_bytes: String(3 * GIB) }, context('VARLIBDOCKER_GB=6\n'))).toEqual({ kind: 'change', changes: ['grow the volume from 3 to 6 GiB'], apply: { DO_GROW: '1' } });
    expect(dockerStorage.plan({ ...FRESH, ...GROWABLE_ROOT, free_bytes: String(GIB) }, context('VARLIBDOCKER_GB=3\n'))).toMatchObject({ kind: 'change', apply: { DO_GROW_ROOT: '1', DO_CREATE: '1' } });
    // More than even the grown partition holds: refused, counting what growing would give.
    const refused = dockerStorage.plan(short, context('VARLIBDOCKER_GB=9\n'));
    expect(refused.kind === 'refuse' && refused.reason).toMatch(/it needs 6\.0 GiB, the filesystem has 5\.0 GiB free/);
  });

  it.each([
    ['a smaller size', DONE, 'VARLIBDOCKER_GB=2\n', /VARLIBDOCKER_GB=2 is smaller than the existing 3 GiB volume: pcc does not shrink it/],
    ['Docker data not on the volume', { ...FRESH, dir: 'data:image overlay2 ' }, 'VARLIBDOCKER_GB=3\n', /holds data that is not on pcc's volume \(image overlay2\).*never deletes that data/],
    ['too little free disk', { ...FRESH, free_bytes: String(2 * GIB) }, 'VARLIBDOCKER_GB=3\n', /not enough free disk for \/var\/lib\/docker\.btrfs: it needs 3\.0 GiB, the filesystem has 2\.0 GiB free/],
    ['too little disk to grow', { ...DONE, free_bytes: String(GIB) }, 'VARLIBDOCKER_GB=10\n', /not enough free disk/],
    ['another filesystem mounted there', { ...FRESH, mount_fstype: 'ext4', mount_source: '/dev/vdb' }, 'VARLIBDOCKER_GB=3\n', /already a ext4 mount of \/dev\/vdb/],
    ['a foreign fstab line', { ...FRESH, fstab_others: '1' }, 'VARLIBDOCKER_GB=3\n', /fstab already mounts something else/],
    ['a smaller size for an unmounted volume', { ...FRESH, dir: 'pcc', file_bytes: String(4 * GIB) }, 'VARLIBDOCKER_GB=3\n', /VARLIBDOCKER_GB=3 is smaller than the existing 4 GiB volume/],
    ['a host that is not Debian or Ubuntu', { ...FRESH, os: 'unsupported:Fedora Linux 41' }, 'VARLIBDOCKER_GB=3\n', /unsupported OS Fedora Linux 41: pcc sets up Debian and Ubuntu hosts/],
  ])('refuses %s with a message, changing nothing', (_name, facts, env, reason) => {
    const plan = dockerStorage.plan(facts, context(env));
    expect(plan.kind).toBe('refuse');
    expect(plan.kind === 'refuse' && plan.reason).toMatch(reason);
  });
});

describe('daemon.json merge', () => {
  it("adds pcc's keys, drops the registry an earlier pcc listed as insecure, and keeps the user's", () => {
    const merged = mergeDaemonJson(b64({ 'log-driver': 'local', features: { buildkit: true }, 'insecure-registries': ['lab:5000', '10.128.0.1:5000'] }), {
      storageDriver: 'btrfs',
      secureRegistries: ['10.128.0.1:5000'],
    });
    expect(JSON.parse(merged ?? '')).toEqual({
      'log-driver': 'local',
      features: { buildkit: true, 'containerd-snapshotter': false },
      'insecure-registries': ['lab:5000'],
      'storage-driver': 'btrfs',
    });
    const onlyPccs = mergeDaemonJson(b64({ 'storage-driver': 'btrfs', 'insecure-registries': ['10.128.0.1:5000'] }), { secureRegistries: ['10.128.0.1:5000'] });
    expect(JSON.parse(onlyPccs ?? '')).toEqual({ 'storage-driver': 'btrfs' });
  });

  it('returns nothing to write when the file already has everything, whatever its formatting', () => {
    const current = Buffer.from('{"storage-driver":"btrfs","features":{"containerd-snapshotter":false},"insecure-registries":["r:5000"]}').toString('base64');
    expect(mergeDaemonJson(current, { storageDriver: 'btrfs', secureRegistries: ['10.128.0.1:5000'] })).toBeUndefined();
    expect(mergeDaemonJson('absent', {})).toBeUndefined();
  });

  it('refuses a file that is not a JSON object instead of overwriting it', () => {
    expect(() => mergeDaemonJson(Buffer.from('{"a": ').toString('base64'), { storageDriver: 'btrfs' })).toThrow(/daemon\.json is not valid JSON/);
    expect(() => mergeDaemonJson(Buffer.from('[1]').toString('base64'), { storageDriver: 'btrfs' })).toThrow(/not a JSON object/);
  });

  it('docker-engine plans the merge and a restart only when the file changes', () => {
    const facts = { os: 'ubuntu', installed: 'yes', enabled: 'enabled', active: 'active', driver: 'btrfs' };
    const merged = dockerEngine.plan({ ...facts, daemon_json: b64({ debug: true }) }, context());
    expect(merged.kind === 'change' && merged.apply.DO_RESTART).toBe('1');
    const current = mergeDaemonJson(b64({ debug: true }), { storageDriver: 'btrfs' }) ?? '';
    expect(dockerEngine.plan({ ...facts, daemon_json: Buffer.from(current).toString('base64') }, context())).toEqual({ kind: 'unchanged' });
  });
});

describe("taking pcc's keys out of the user's files again (pcc remove)", () => {
  it("daemon.json loses exactly what pcc merged in; a file that held nothing else goes", () => {
    const users = { 'log-driver': 'journald', features: { buildkit: true } };
    const merged = mergeDaemonJson(b64(users), { storageDriver: 'btrfs', nvidiaRuntime: true }) ?? '';
    expect(JSON.parse(withoutPccDaemonKeys(Buffer.from(merged).toString('base64')) as string)).toEqual(users);
    expect(withoutPccDaemonKeys(Buffer.from(mergeDaemonJson('absent', { storageDriver: 'btrfs' }) ?? '').toString('base64'))).toBe('delete');
    expect(withoutPccDaemonKeys(b64(users))).toBeUndefined();
    // A driver the user chose is theirs.
    expect(withoutPccDaemonKeys(b64({ 'storage-driver': 'overlay2' }))).toBeUndefined();
  });

  it("a Docker config loses pcc's credential helper entries only", () => {
    const users = { auths: { 'ghcr.io': {} }, credHelpers: { 'gcr.io': 'gcloud' } };
    const merged = withCredentialHelper(b64(users), 'config.json', ['10.99.0.1:5000']) ?? '';
    expect(JSON.parse(withoutCredentialHelper(Buffer.from(merged).toString('base64'), 'config.json', ['10.99.0.1:5000']) as string)).toEqual(users);
    expect(withoutCredentialHelper(Buffer.from(withCredentialHelper('absent', 'config.json', ['r:5000']) ?? '').toString('base64'), 'config.json', ['r:5000'])).toBe('delete');
    expect(withoutCredentialHelper(b64({ credHelpers: { 'r:5000': 'desktop' } }), 'config.json', ['r:5000'])).toBeUndefined();
  });
});

describe('registry-access and project-share plans', () => {
  const helperConfig = b64({ credHelpers: { '10.128.0.1:5000': 'pcc' } });
  const accessDone = { os: 'debian', profile: 'ok', environment: 'ok', trust: 'ok', login: 'ok', root_config: helperConfig, user: 'vagrant', user_config: helperConfig };

  it('writes REGISTRY_HOST when either file differs', () => {
    expect(registryAccess.plan(accessDone, context())).toEqual({ kind: 'unchanged' });
    expect(registryAccess.plan({ ...accessDone, profile: 'differs' }, context())).toEqual({ kind: 'change', changes: [expect.stringMatching(/^export REGISTRY_HOST=10\.128\.0\.1:5000/)], apply: {} });
  });

  it("trusts the project's CA, installs root's login and merges the credential helper into both users' Docker configs", () => {
    const own = context();
    const plan = registryAccess.plan({ ...accessDone, trust: 'differs', login: 'differs', root_config: 'absent', user_config: b64({ auths: { 'ghcr.io': { auth: 'x' } }, credHelpers: { 'lab:5000': 'lab' } }) }, own);
    expect(plan.kind === 'change' && plan.changes).toEqual([
      "trust the project's CA for 10.128.0.1:5000 (/etc/docker/certs.d/10.128.0.1:5000/ca.crt)",
      'install the registry login for root (/etc/pcc/registry-login.json, 0600) and its credential helper',
      'log Docker in to 10.128.0.1:5000 through the credential helper (/root/.docker/config.json)',
      'log Docker in to 10.128.0.1:5000 through the credential helper (~vagrant/.docker/config.json)',
    ]);
    const apply = plan.kind === 'change' ? plan.apply : {};
    expect(apply).toMatchObject({ DO_TRUST: '1', DO_LOGIN: '1' });
    const decode = (value = '') => JSON.parse(Buffer.from(value, 'base64').toString()) as unknown;
    expect(decode(apply.ROOT_CONFIG_B64)).toEqual({ credHelpers: { '10.128.0.1:5000': 'pcc' } });
    expect(decode(apply.USER_CONFIG_B64)).toEqual({ auths: { 'ghcr.io': { auth: 'x' } }, credHelpers: { 'lab:5000': 'lab', '10.128.0.1:5000': 'pcc' } });
    // The password goes to the host only as an input (on the script's stdin), never in what is shown.
    const { password } = registryCredentials(own.config);
    expect(decode(registryAccess.inputs(own).LOGIN_JSON_B64)).toEqual({ ServerURL: '10.128.0.1:5000', Username: 'pcc', Secret: password.reveal() });
    expect(JSON.stringify(plan)).not.toContain(password.reveal());
  });

  it("refuses a user's Docker config that is not JSON instead of overwriting it", () => {
    const plan = registryAccess.plan({ ...accessDone, user_config: Buffer.from('{oops').toString('base64') }, context());
    expect(plan).toEqual({ kind: 'refuse', reason: expect.stringMatching(/~vagrant\/\.docker\/config\.json is not valid JSON/) });
  });

  it('fails clearly on a kernel without an NFS client — never a silent skip', () => {
    const plan = projectShare.plan({ os: 'debian', kernel_nfs: 'no', client: 'yes', units: 'ok', automount: 'active', enabled: 'enabled' }, context());
    expect(plan).toEqual({ kind: 'refuse', reason: expect.stringMatching(/kernel has no NFS client.*\/project cannot be mounted/) });
  });

  it('mounts with the default NFSv4.2 hard options unless NFS_OPTS says otherwise', () => {
    const plan = projectShare.plan({ os: 'debian', kernel_nfs: 'yes', client: 'no', units: 'differs', automount: 'inactive', enabled: 'no' }, context());
    expect(plan.kind === 'change' && plan.changes.join('\n')).toContain('10.128.0.1:/project at /project (vers=4.2,hard,timeo=600,retrans=2,noatime)');

    const config = loadConfig(makeProject({ 'hosts/global.env': 'NFS_OPTS=vers=4.1,soft,timeo=100\n' }), {});
    const own: StepContext = { host, config, settings: config.hosts.compute, members: () => [] };
    const overridden = projectShare.plan({ os: 'debian', kernel_nfs: 'yes', client: 'yes', units: 'differs', automount: 'inactive', enabled: 'no' }, own);
    expect(overridden.kind === 'change' && overridden.changes.join('\n')).toContain('at /project (vers=4.1,soft,timeo=100)');
    expect(projectShare.inputs(own).NFS_OPTS).toBe('vers=4.1,soft,timeo=100');
  });

  it('mounts a stale share again, and after init restarted any mounted one, stale yet or not', () => {
    const settled = { os: 'debian', kernel_nfs: 'yes', client: 'yes', units: 'ok', automount: 'active', enabled: 'enabled' };
    expect(projectShare.plan({ ...settled, mount: 'ok' }, context())).toEqual({ kind: 'unchanged' });
    expect(projectShare.plan({ ...settled, mount: 'stale' }, context())).toEqual({
      kind: 'change',
      changes: ['mount /project again: its handles are stale (10.128.0.1 restarted)'],
      apply: { DO_REMOUNT: '1' },
    });
    expect(projectShareAfterServerRestart.plan({ ...settled, mount: 'ok' }, context())).toMatchObject({ kind: 'change', apply: { DO_REMOUNT: '1' } });
    // Not mounted yet: the next access mounts the new share.
    expect(projectShareAfterServerRestart.plan({ ...settled, mount: 'unmounted' }, context())).toEqual({ kind: 'unchanged' });
    expect(projectShareAfterServerRestart.id).toBe(projectShare.id);
  });
});

describe('idle stop plan', () => {
  const on = context('VARLIBDOCKER_GB=3\n');
  const withIdle = (() => {
    const config = loadConfig(makeProject({ 'project.env': '', 'hosts/compute.env': 'IDLE_STOP_MINUTES=30\n' }), {});
    return { host, config, settings: config.hosts.compute, members: () => [] } satisfies StepContext;
  })();

  it('is off by default and removes a timer left from before', () => {
    expect(idleStop.plan({ os: 'debian', files: 'absent', timer: '/' }, on)).toEqual({ kind: 'unchanged', note: 'off' });
    expect(idleStop.plan({ os: 'debian', files: 'differs', timer: 'active/enabled' }, on)).toEqual({ kind: 'change', changes: ['remove the idle stop timer (IDLE_STOP_MINUTES is unset)'], apply: {} });
    expect(idleStop.inputs(on)).toEqual({ IDLE_MINUTES: '', GPU_PERCENT: '5', MINUTE_SECONDS: '60' });
  });

  it('installs the timer when IDLE_STOP_MINUTES is set, and is unchanged once it runs with these settings', () => {
    expect(idleStop.inputs(withIdle)).toEqual({ IDLE_MINUTES: '30', GPU_PERCENT: '5', MINUTE_SECONDS: '60' });
    expect(idleStop.plan({ os: 'debian', files: 'absent', timer: '/' }, withIdle)).toMatchObject({ kind: 'change', changes: [expect.stringContaining('power off after 30 min')] });
    expect(idleStop.plan({ os: 'debian', files: 'differs', timer: 'active/enabled' }, withIdle).kind).toBe('change');
    expect(idleStop.plan({ os: 'debian', files: 'ok', timer: 'inactive/enabled' }, withIdle).kind).toBe('change');
    expect(idleStop.plan({ os: 'debian', files: 'ok', timer: 'active/enabled' }, withIdle)).toEqual({ kind: 'unchanged', note: 'after 30 min idle' });
  });

  it('takes whole minutes only', () => {
    expect(() => loadConfig(makeProject({ 'project.env': '', 'hosts/global.env': 'IDLE_STOP_MINUTES=0.5\n' }), {})).toThrow(/IDLE_STOP_MINUTES="0\.5": expected minutes: a whole number from 1 to 10080/);
  });
});

describe('spot watch plan', () => {
  const onDemand = context();
  const spotHost: HostRecord = { ...host, name: 'i-0spot', provider: 'ec2', billing: { instanceType: 't3.large', spot: true, storage: [] } };
  const spot = { ...onDemand, host: spotHost } satisfies StepContext;

  it('watches only on spot hosts, and removes a watch left on a host that is no longer one', () => {
    expect(spotWatch.inputs(onDemand)).toEqual({ SPOT: '', METADATA: INSTANCE_METADATA });
    expect(spotWatch.plan({ os: 'debian', files: 'absent', service: '/' }, onDemand)).toEqual({ kind: 'unchanged', note: 'not a spot host' });
    expect(spotWatch.plan({ os: 'debian', files: 'differs', service: 'active/enabled' }, onDemand)).toMatchObject({ kind: 'change', changes: ['remove the spot watch (not a spot host)'] });
  });

  it('installs the watch on a spot host and is unchanged once it is in place and running', () => {
    expect(spotWatch.inputs(spot)).toEqual({ SPOT: 'yes', METADATA: INSTANCE_METADATA });
    expect(spotWatch.plan({ os: 'debian', files: 'absent', service: '/' }, spot)).toMatchObject({ kind: 'change', changes: [expect.stringContaining('SIGTERM')] });
    expect(spotWatch.plan({ os: 'debian', files: 'ok', service: 'inactive/enabled' }, spot).kind).toBe('change');
    expect(spotWatch.plan({ os: 'debian', files: 'ok', service: 'active/enabled' }, spot)).toEqual({ kind: 'unchanged', note: 'watching for the notice' });
  });
});

describe('CUDA', () => {
  /** A sysfs tree with the given PCI devices (address → [vendor, class]). */
  function sysfs(devices: Record<string, [string, string]>): string {
    const root = tempDir('pcc-sysfs-');
    mkdirSync(path.join(root, 'bus', 'pci', 'devices'), { recursive: true });
    for (const [address, [vendor, klass]] of Object.entries(devices)) {
      const dir = path.join(root, 'bus', 'pci', 'devices', address);
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'vendor'), `${vendor}\n`);
      writeFileSync(path.join(dir, 'class'), `${klass}\n`);
    }
    return root;
  }

  /** Runs the step's own detection function with bash, as it runs on a host. */
  async function detect(root: string): Promise<string> {
    const { stdout } = await execa('bash', ['-c', `${stepScript([cuda], [])}\ncuda_detect_gpus "$1"`, 'detect', root]);
    return stdout.trim();
  }

  it('finds NVIDIA display and 3D controllers in sysfs, and nothing else', async () => {
    const withGpu = sysfs({
      '0000:00:02.0': ['0x8086', '0x030000'],
      '0000:3b:00.0': ['0x10de', '0x030200'],
      '0000:3b:00.1': ['0x10de', '0x040300'],
      '0000:5e:00.0': ['0x10de', '0x030000'],
    });
    expect(await detect(withGpu)).toBe('0000:3b:00.0\n0000:5e:00.0');
    expect(await detect(sysfs({ '0000:00:02.0': ['0x8086', '0x030000'], '0000:00:03.0': ['0x1af4', '0x020000'] }))).toBe('');
  });

  it('plans the driver, toolkit, runtime and nvidia_uvm on a GPU host, nothing on a host without one', () => {
    const missing = { os: 'ubuntu', gpus: '0000:3b:00.0', driver: 'missing', toolkit: 'missing', uvm: 'missing', daemon_json: 'absent' };
    const plan = cuda.plan(missing, context());
    expect(plan).toEqual({
      kind: 'change',
      changes: ['1 NVIDIA GPU (0000:3b:00.0):', 'install the NVIDIA driver', 'install the NVIDIA Container Toolkit', 'add the nvidia runtime to /etc/docker/daemon.json', 'load the nvidia_uvm module'],
      apply: { DO_DRIVER: '1', DO_TOOLKIT: '1', DO_UVM: '1', DAEMON_JSON_B64: expect.any(String) },
    });
    const daemon = JSON.parse(Buffer.from(plan.kind === 'change' ? plan.apply.DAEMON_JSON_B64 ?? '' : '', 'base64').toString());
    expect(daemon.runtimes.nvidia).toEqual({ path: 'nvidia-container-runtime', args: [] });

    const ready = { ...missing, driver: 'ok', toolkit: 'ok', uvm: 'loaded', daemon_json: b64({ runtimes: { nvidia: { path: 'nvidia-container-runtime', args: [] } } }) };
    expect(cuda.plan(ready, context())).toEqual({ kind: 'unchanged', note: '1 NVIDIA GPU (0000:3b:00.0)' });
    expect(cuda.plan({ os: 'debian', gpus: '' }, context())).toEqual({ kind: 'unchanged', note: 'no GPU' });
  });
});

describe('setup of hosts pcc cannot reach', () => {
  it('reports each as a failed first step and goes on with the others', async () => {
    const engine = createEngine(loadConfig(makeProject({ 'project.env': 'PROJECT_NAME=unreach\n' }), {}), { env: {}, home: tempDir('pcc-home-'), providers: [] });
    const record = (name: string, state: HostRecord['state']): HostRecord => ({ name, provider: 'vagrant', role: 'compute', computeType: 'cpu', state, extras: {}, createdAt: '', updatedAt: '' });
    const hosts = [record('vagrant1', 'running'), record('vagrant2', 'stopped')];
    const summary = await setupHosts(engine, hosts, 'set up all', { steps: [registryAccess, projectShare] });
    expect(summary.ok).toBe(false);
    expect(failureLines(summary)).toEqual([
      'vagrant1: registry-access: vagrant1 has no known SSH address; pcc status looks it up again, or pcc resume vagrant1',
      'vagrant2: registry-access: vagrant2 is stopped; resume it first (pcc resume vagrant2)',
    ]);
    expect(summary.hosts.map((host) => host.steps.map((step) => step.outcome))).toEqual([['failed', 'skipped'], ['failed', 'skipped']]);
  });
});

describe('the compute type follows what cuda detects', () => {
  it('a cpu host with a GPU becomes gpu (aliases gpu-NAME), and back to cpu when the GPU is gone', async () => {
    const home = tempDir('pcc-home-');
    const engine = createEngine(loadConfig(makeProject({ 'project.env': 'PROJECT_NAME=gpus\n' }), {}), { env: {}, home, providers: [] });
    await engine.state.update((state) => {
      state.hosts.vagrant1 = {
        name: 'vagrant1', provider: 'vagrant', role: 'compute', computeType: 'cpu', state: 'running', extras: {},
        ssh: { host: '127.0.0.1', port: 2201, user: 'vagrant', identityFile: '/dev/null' }, createdAt: '', updatedAt: '',
      };
    });
    const host = () => engine.state.read().hosts.vagrant1 as HostRecord;
    const aliases = () => readFileSync(engine.sshConfig.pccFile, 'utf8').match(/^Host .*$/m)?.[0];

    await cuda.settled?.(engine, host(), { os: 'ubuntu', gpus: '0000:3b:00.0' });
    expect(host().computeType).toBe('gpu');
    expect(aliases()).toBe('Host vagrant1 vagrant-vagrant1 gpu-vagrant1');

    await cuda.settled?.(engine, host(), { os: 'ubuntu', gpus: '' });
    expect(host().computeType).toBe('cpu');
    expect(aliases()).toBe('Host vagrant1 vagrant-vagrant1 cpu-vagrant1');
  });
});
