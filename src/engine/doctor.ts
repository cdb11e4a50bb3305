import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { chosenAcceleration, TCG_COST } from '../providers/vagrant/libvirt-acceleration.js';
import { NFS_SUDO_HINT, nfsSudoReady } from '../providers/vagrant/nfs-sudo.js';
import { configuredSettings, type Config } from '../core/config/load.js';
import { dockerFromEnv } from './docker-client.js';
import { ec2Region, Prices } from './cost.js';
import { spendSubjectOf, spendWarningLines, spendWarnings } from './spend-warnings.js';
import { StateStore } from './state.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One finding of `pcc doctor`. */
export interface Check {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  /** The command or action that fixes a missing item. */
  fix?: string;
  /** A failed required check means the configured provider cannot work. */
  required: boolean;
}

export interface DoctorReport {
  provider: Config['defaultProvider'];
  vagrantBackend: Config['vagrant']['backend'];
  checks: Check[];
  /** Every setting that is not pcc's default, and where it comes from (file:line, settings file, environment). */
  settings: ReturnType<typeof configuredSettings>;
  /** False when a required check failed. */
  ok: boolean;
}

const PROBE_TIMEOUT_MS = 5000;
const MIN_NODE_MAJOR = 20;

/**
 * Checks what pcc needs on this machine. Items that only the configured provider needs are required;
 * the rest are reported as warnings so a person sees what another provider would need.
 */
export async function runDoctor(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<DoctorReport> {
  const usesVagrant = config.defaultProvider === 'vagrant';
  const backend = config.vagrant.backend;
  const checks = await Promise.all([
    checkNode(),
    checkSshClient(),
    checkSshKey(config),
    checkVagrant(usesVagrant),
    checkVirtualBox(usesVagrant && backend === 'virtualbox'),
    checkLibvirt(usesVagrant && backend === 'libvirt'),
    checkLibvirtAcceleration(config, usesVagrant && backend === 'libvirt', env),
    checkNfsServer(backend === 'virtualbox' && config.vagrant.syncedFolderType === 'nfs', usesVagrant),
    checkNfsSudo(config.vagrant.syncedFolderType === 'nfs', usesVagrant, env),
    checkDockerEngine(usesVagrant && backend === 'docker', env),
    checkAws(config, config.defaultProvider === 'ec2', env),
    ...checkSpend(config),
  ]);
  return {
    provider: config.defaultProvider,
    vagrantBackend: backend,
    checks,
    settings: configuredSettings(config),
    ok: checks.every((check) => check.status !== 'fail'),
  };
}

function result(
  id: string,
  title: string,
  required: boolean,
  found: boolean,
  detail: string,
  fix: string,
): Check {
  if (found) return { id, title, status: 'ok', detail, required };
  return { id, title, status: required ? 'fail' : 'warn', detail, fix, required };
}

async function probe(file: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  const run = await execa(file, args, { reject: false, timeout: PROBE_TIMEOUT_MS, stdin: 'ignore' });
  const output = `${run.stdout}\n${run.stderr}`.trim();
  return { ok: run.exitCode === 0, output: run.failed && run.exitCode === undefined ? `${file} not found` : output };
}

async function checkNode(): Promise<Check> {
  const major = Number(process.versions.node.split('.')[0]);
  return result('node', 'Node.js', true, major >= MIN_NODE_MAJOR, `node ${process.versions.node}`,
    `install Node.js ${MIN_NODE_MAJOR} or newer`);
}

async function checkSshClient(): Promise<Check> {
  const { ok, output } = await probe('ssh', ['-V']);
  return result('ssh-client', 'OpenSSH client', true, ok, ok ? output.split('\n')[0] ?? '' : 'ssh not found',
    'apt-get install openssh-client');
}

/** pcc logs in with a key of its own; ssh refuses a private key that others can read. */
async function checkSshKey(config: Config): Promise<Check> {
  const keyPath = path.join(config.privateDir, 'ssh', 'id_ed25519');
  const shown = path.relative(config.root, keyPath);
  const title = "pcc's SSH key";
  if (!existsSync(keyPath)) {
    return { id: 'ssh-key', title, status: 'ok', detail: `${shown} is made by the first \`pcc up\``, required: false };
  }
  const mode = statSync(keyPath).mode & 0o777;
  return result('ssh-key', title, true, (mode & 0o077) === 0, `${shown} (mode ${mode.toString(8)})`, `chmod 600 ${keyPath}`);
}

async function checkVagrant(required: boolean): Promise<Check> {
  const { ok, output } = await probe('vagrant', ['--version']);
  return result('vagrant', 'Vagrant', required, ok, ok ? output : 'vagrant not found', 'apt-get install vagrant');
}

async function checkVirtualBox(required: boolean): Promise<Check> {
  const { ok, output } = await probe('VBoxManage', ['--version']);
  return result('vagrant-virtualbox', 'Vagrant backend: virtualbox', required, ok,
    ok ? `VirtualBox ${output}` : 'VBoxManage not found',
    'install VirtualBox from virtualbox.org, or set VAGRANT_PROVIDER=libvirt or docker in config/project.env');
}

/** Init's folders come over NFS from this machine where VirtualBox runs it (VAGRANT_SYNCED_FOLDER_TYPE). */
function checkNfsServer(needed: boolean, required: boolean): Check {
  const title = "NFS server (init's project folder on VirtualBox)";
  if (!needed) return { id: 'nfs-server', title, status: 'ok', detail: 'not needed with this backend and synced folder type', required: false };
  // nfs-kernel-server's exportfs: what Vagrant runs to export the folder.
  const found = ['/usr/sbin/exportfs', '/sbin/exportfs'].some((file) => existsSync(file));
  return result('nfs-server', title, required, found, found ? 'found' : 'no NFS server (exportfs not found)',
    'apt-get install nfs-kernel-server, or set VAGRANT_SYNCED_FOLDER_TYPE=rsync in config/project.env (a one-way copy)');
}

async function checkNfsSudo(needed: boolean, required: boolean, env: NodeJS.ProcessEnv): Promise<Check> {
  const title = "sudo for Vagrant's NFS exports";
  if (!needed) return { id: 'nfs-sudo', title, status: 'ok', detail: 'not needed with this synced folder type', required: false };
  const ready = await nfsSudoReady(env);
  return result('nfs-sudo', title, required, ready, ready ? 'no password needed' : 'sudo would ask for a password', NFS_SUDO_HINT);
}

async function checkLibvirt(required: boolean): Promise<Check> {
  const [plugins, virsh] = await Promise.all([probe('vagrant', ['plugin', 'list']), probe('virsh', ['--version'])]);
  const found = plugins.ok && plugins.output.includes('vagrant-libvirt') && virsh.ok;
  return result('vagrant-libvirt', 'Vagrant backend: libvirt', required, found,
    found ? `libvirt ${virsh.output}` : !virsh.ok ? 'virsh not found' : 'vagrant-libvirt plugin not installed',
    'apt-get install vagrant-libvirt libvirt-daemon-system');
}

/** KVM or TCG for new libvirt machines, and why: the probe pcc runs before their first boot. */
async function checkLibvirtAcceleration(config: Config, used: boolean, env: NodeJS.ProcessEnv): Promise<Check> {
  const id = 'libvirt-acceleration';
  const title = 'libvirt acceleration';
  if (!used) return { id, title, status: 'ok', detail: 'not needed with this backend', required: false };
  const setting = config.vagrant.libvirtDriver;
  const { driver, reason } = await chosenAcceleration(setting, env);
  if (driver === 'kvm') return { id, title, status: 'ok', detail: `KVM: ${reason}`, required: false };
  return {
    id,
    title,
    status: 'warn',
    detail: `TCG (${TCG_COST}): ${reason}`,
    fix: setting === 'auto' ? 'enable hardware virtualisation (BIOS setting, kvm module, kvm group) for KVM' : 'set LIBVIRT_DRIVER=auto to use KVM where it works',
    required: false,
  };
}

async function checkDockerEngine(required: boolean, env: NodeJS.ProcessEnv): Promise<Check> {
  const where = env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  let detail: string;
  let found = false;
  try {
    const docker = dockerFromEnv(env, PROBE_TIMEOUT_MS);
    const version = await docker.version();
    detail = `Docker ${version.Version} at ${where}`;
    found = true;
  } catch (error) {
    detail = `no Docker engine answers at ${where}: ${(error as Error).message}`;
  }
  return result('docker', 'Docker engine (Vagrant docker backend)', required, found, detail,
    'apt-get install docker.io && systemctl start docker (or set DOCKER_HOST; `npm run fleet:up` starts one)');
}

async function checkAws(config: Config, required: boolean, env: NodeJS.ProcessEnv): Promise<Check> {
  const title = 'AWS credentials (EC2 provider)';
  const fix = 'aws configure (or aws sso login), or put AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in config/.private';
  if (config.aws.accessKeyId) {
    return result('aws', title, required, true, 'from config/.private', fix);
  }
  try {
    // Loaded here: the AWS SDK is slow to load, and only this check needs it.
    const { awsCredentialChain } = await import('../providers/ec2/aws-credentials.js');
    const credentials = await withTimeout(awsCredentialChain(env)(), PROBE_TIMEOUT_MS);
    const origin = credentials.accessKeyId ? "from the AWS SDK's default chain" : 'empty';
    return result('aws', title, required, Boolean(credentials.accessKeyId), origin, fix);
  } catch (error) {
    // AWS's own words where they say more than "none": an expired SSO session, a missing profile.
    const message = (error as Error).message;
    return result('aws', title, required, false, /could not load credentials from any providers|timed out/i.test(message) ? "none found in the AWS SDK's default chain" : message, fix);
  }
}

/** Machines that bill while forgotten: compute hosts running with idle stop off, images saved long ago. */
function checkSpend(config: Config): Check[] {
  const prices = new Prices(config);
  const region = ec2Region(config);
  const now = Date.now();
  const hosts = Object.values(new StateStore(config.privateDir).read().hosts).filter((host) => host.state !== 'gone');
  const warnings = spendWarnings(config, hosts.map((host) => spendSubjectOf(host, prices.hostCost(host, region, now)?.storagePerMonth)), now);
  const idleMinutes = config.hosts.compute.idleStop.minutes;
  const idleStop: Check =
    warnings.idleStopOff.length > 0
      ? {
          id: 'idle-stop', title: 'idle stop', status: 'warn', required: false,
          detail: `${spendWarningLines({ ...warnings, oldImages: [] }).join('')}: nothing stops ${warnings.idleStopOff.length === 1 ? 'it' : 'them'} when forgotten`,
          fix: 'Set IDLE_STOP_MINUTES (say 60) in config/hosts/compute.env, then run pcc setup',
        }
      : {
          id: 'idle-stop', title: 'idle stop', status: 'ok', required: false,
          detail: idleMinutes === undefined ? 'off (IDLE_STOP_MINUTES unset); no compute host runs' : `compute hosts power off after ${idleMinutes} min idle (once set up)`,
        };
  const images: Check =
    warnings.oldImages.length > 0
      ? {
          id: 'saved-images', title: 'saved images', status: 'warn', required: false,
          detail: `${spendWarningLines({ ...warnings, idleStopOff: [] }).join('; ')}: older than SAVED_IMAGE_WARN_DAYS=${config.savedImageWarnDays}`,
          fix: 'pcc resume HOST to use it again, or pcc images rm IMAGE (pcc images lists them) to stop paying for it',
        }
      : { id: 'saved-images', title: 'saved images', status: 'ok', required: false, detail: `none older than ${config.savedImageWarnDays} days` };
  return [idleStop, images];
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
