import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';
import { PccError, UsageError } from '../core/errors.js';
import { readAsset } from '../core/assets.js';
import { ensurePccKey } from '../core/ssh-key.js';
import type { ComputeType } from '../providers/provider.js';
import { SshProvider } from '../providers/ssh/ssh-provider.js';
import type { Engine } from './engine.js';
import { forgetHosts, viewOf, type HostView } from './lifecycle.js';
import { emitState, reconcile, recordEndpoint, recordOf } from './reconcile.js';
import { removeSetup } from './setup/remove-setup.js';
import { shellQuote, SshAuthError, type SshLogin, type SshTarget } from './ssh/pool.js';
import { HOST_FIELDS } from './state.js';

export interface AddRequest {
  /** USER@HOST or USER@HOST:PORT */
  target: string;
  name?: string;
  /** The user's private key to log in with the first time; default: their agent and ~/.ssh keys. */
  identityFile?: string;
  computeType: ComputeType;
  /** Asked at most once, when the machine takes none of the user's keys; undefined when there is no way to ask. */
  password?: () => Promise<string | undefined>;
}

/** The keys OpenSSH tries by default, in its order. */
const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** Parses USER@HOST[:PORT]; a bracketed IPv6 address takes a port after the bracket. */
export function parseTarget(target: string): { user: string; host: string; port: number } {
  const match = /^([A-Za-z_][A-Za-z0-9._-]{0,31})@(\[[0-9A-Fa-f:]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(target);
  const port = Number(match?.[3] ?? 22);
  if (!match || port < 1 || port > 65535) throw new UsageError(`${target}: expected USER@HOST or USER@HOST:PORT`, 'For example: pcc add ssh alice@lab1.example.org');
  return { user: match[1] ?? '', host: (match[2] ?? '').replace(/^\[|\]$/g, ''), port };
}

/** The name a machine gets unless --name says otherwise: a hostname's first label, an address with dashes. */
export function defaultName(host: string): string {
  return /^[0-9.]+$/.test(host) || host.includes(':') ? `host-${host.replace(/[.:]/g, '-')}` : (host.split('.')[0] ?? host);
}

function sshProvider(engine: Engine): SshProvider {
  const found = engine.providers.get('ssh');
  if (!(found instanceof SshProvider)) throw new PccError('the ssh provider is not available in this version of pcc');
  return found;
}

/**
 * Adds a machine the user already has: pins its host key on first contact (logging in with their key,
 * agent or a password asked once, which is never kept), checks that sudo needs no password, installs
 * pcc's key, and records it as a host of the ssh provider, reached from then on with pcc's key.
 */
export async function addMachine(engine: Engine, request: AddRequest): Promise<HostView> {
  const { user, host, port } = parseTarget(request.target);
  const name = request.name ?? defaultName(host);
  const named = HOST_FIELDS.name.safeParse(name);
  if (!named.success) throw new UsageError(`--name ${name}: ${named.error.issues[0]?.message ?? 'not a host name'}`);
  const hosts = await reconcile(engine);
  if (hosts.some((known) => known.name === name)) throw new UsageError(`a host named ${name} already exists`, 'Choose another name with --name NAME.');
  const provider = sshProvider(engine);
  const pccKey = ensurePccKey(engine.config.privateDir, `pcc-${engine.config.project.name}`);
  // A pin left by an earlier machine of this name would refuse the new one: the name is free, so is its pin.
  await engine.knownHosts.forget(name);

  const first: SshTarget = { name, host, port, user, identityFile: pccKey.privateKeyFile, login: userLogin(engine, request.identityFile) };
  try {
    await firstContact(engine, first, request.password);
    const sudo = await engine.ssh.exec(first, '[ "$(id -u)" = 0 ] || sudo -n true', { quiet: true });
    if (sudo.code !== 0) {
      throw new PccError(`${user} on ${host} cannot run sudo without a password, which pcc's host setup needs`, {
        hint: `On ${host}, as root: echo '${user} ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/pcc-${user} && chmod 0440 /etc/sudoers.d/pcc-${user} — then run pcc add ssh ${request.target} again.`,
      });
    }
    const installed = await engine.ssh.exec(first, 'bash -s', { stdin: ownMachinesScript(`authorized_keys_add ${shellQuote(pccKey.publicKey)}`), quiet: true });
    if (installed.code !== 0) throw new PccError(`could not add pcc's key to ~/.ssh/authorized_keys of ${user}@${host}: ${installed.stderr.trim()}`);
  } catch (error) {
    await engine.knownHosts.forget(name);
    throw error;
  } finally {
    // The user's credentials end here: from now on pcc logs in with its own key.
    engine.ssh.close(name);
  }

  await provider.add({ name, host, port, user, computeType: request.computeType });
  const now = new Date().toISOString();
  const record = recordOf({ name, provider: 'ssh', role: 'compute', computeType: request.computeType, state: 'running', extras: {} }, now);
  await engine.state.update((state) => {
    state.hosts[name] = record;
  });
  emitState(engine, record);
  const endpoint = await provider.sshEndpoint(name);
  const check = await engine.ssh.exec({ name, ...endpoint }, 'true');
  if (check.code !== 0) throw new PccError(`${name}: pcc's key was installed but a login with it failed (exit ${check.code})`);
  const added = await recordEndpoint(engine, name, endpoint);
  await engine.sshConfig.writeHosts(engine.state.read().hosts);
  return viewOf(engine, added);
}

/** A private key ssh2 can use as it is: not one protected by a passphrase (the user's agent holds those). */
function usableKey(file: string): Buffer | undefined {
  const key = readFileSync(file);
  return ssh2.utils.parseKey(key) instanceof Error ? undefined : key;
}

/** The user's own credentials for the first login: the given key, or their agent and first default key pcc can use. */
function userLogin(engine: Engine, identityFile: string | undefined): SshLogin {
  let privateKey: Buffer | undefined;
  if (identityFile !== undefined) {
    if (!existsSync(identityFile)) throw new UsageError(`--identity ${identityFile}: no such file`);
    privateKey = usableKey(identityFile);
    if (!privateKey) throw new UsageError(`--identity ${identityFile} is protected by a passphrase or is not a private key`, 'Add it to your ssh-agent (ssh-add FILE) and leave out --identity.');
  } else {
    const home = engine.env.HOME ?? '';
    for (const file of DEFAULT_KEYS.map((key) => path.join(home, '.ssh', key)).filter((file) => existsSync(file))) {
      privateKey ??= usableKey(file);
    }
  }
  return { ...(privateKey ? { privateKey } : {}), ...(engine.env.SSH_AUTH_SOCK ? { agent: engine.env.SSH_AUTH_SOCK } : {}) };
}

/** Logs in with the user's key or agent; when the machine takes neither, with a password asked once. */
async function firstContact(engine: Engine, target: SshTarget, askPassword: AddRequest['password']): Promise<void> {
  const attempt = async (login: SshLogin) => {
    const result = await engine.ssh.exec({ ...target, login }, 'true', { quiet: true });
    if (result.code !== 0) throw new PccError(`${target.user}@${target.host}: a first command failed (exit ${result.code}): ${result.stderr.trim()}`);
  };
  try {
    if (target.login?.privateKey || target.login?.agent) return await attempt(target.login);
  } catch (error) {
    if (!(error instanceof SshAuthError)) throw error;
  }
  const password = await askPassword?.();
  if (password === undefined) {
    throw new PccError(`${target.user}@${target.host}:${target.port} took none of your SSH keys, and there is no terminal to ask for a password`, {
      hint: 'Give the key it takes with --identity FILE, start your ssh-agent with it, or pass the password on standard input with --password-stdin.',
    });
  }
  try {
    await attempt({ password });
  } catch (error) {
    if (error instanceof SshAuthError) throw new PccError(`${target.user}@${target.host}:${target.port} refused the password`, { hint: 'Check the user name and password, and that the machine allows password logins.' });
    throw error;
  }
}

/** own-machines.sh with one call of its functions. */
function ownMachinesScript(call: string): string {
  return `${readAsset('src/engine/own-machines.sh')}\n${call}\n`;
}

export interface RemoveOptions {
  /** Leave Docker and its volume on the machine. */
  keepSetup?: boolean;
  /** Take Docker's volume off, with what is in it: the user has said so. */
  yes?: boolean;
  /** Forget a machine that does not answer, without touching it. */
  forgetOnly?: boolean;
}

/** What `pcc remove` took off a machine, and what it left there. */
export interface RemoveReport {
  removed: string;
  takenOff: string[];
  left: string[];
}

/**
 * Forgets one of the user's own machines and takes off it what pcc put there, step by step, and last
 * pcc's key in authorized_keys (pcc logs in with it until then). The machine keeps running, as it did
 * before pcc. Docker's volume holds the user's images and containers: it goes only with `yes`.
 */
export async function removeMachine(engine: Engine, name: string, options: RemoveOptions = {}): Promise<RemoveReport> {
  const hosts = await reconcile(engine);
  const host = hosts.find((known) => known.name === name);
  if (!host) throw new UsageError(`no host named ${name}`, 'pcc status lists the hosts.');
  if (host.provider !== 'ssh') throw new UsageError(`${name} is a ${host.provider} host that pcc made`, `pcc destroy ${name} --yes removes it.`);
  const report: RemoveReport = { removed: name, takenOff: [], left: [] };
  if (host.state !== 'running' || !host.ssh) {
    if (!options.forgetOnly) {
      throw new PccError(`${name} does not answer, so pcc cannot take its things off it`, { hint: `Bring it back and run this again, or forget it as it is: pcc remove ${name} --forget-only.` });
    }
    report.left.push(`pcc's key in ~/.ssh/authorized_keys of ${host.ssh?.user ?? 'its user'}`, "pcc's host setup");
  } else {
    if (host.setupAt !== undefined && !options.keepSetup && !options.yes) {
      throw new UsageError(`pcc remove ${name} takes pcc's setup off it: Docker's volume goes, with the images, containers and volumes in it`, 'Add --yes to go ahead, or --keep-setup to keep Docker and its volume.');
    }
    const removal = await removeSetup(engine, host, { keepSetup: options.keepSetup ?? false });
    report.takenOff.push(...removal.removed);
    report.left.push(...removal.kept);
    const target: SshTarget = { name, ...host.ssh };
    const folders = await engine.ssh.exec(target, 'bash -s', { sudo: true, stdin: ownMachinesScript('pcc_folders_remove') });
    if (folders.code !== 0) throw new PccError(`${name}: could not remove pcc's folders: ${folders.stderr.trim()}`);
    const pccKey = ensurePccKey(engine.config.privateDir, `pcc-${engine.config.project.name}`);
    const key = await engine.ssh.exec(target, 'bash -s', { stdin: ownMachinesScript(`authorized_keys_remove ${shellQuote(pccKey.publicKey)}`), quiet: true });
    if (key.code !== 0) throw new PccError(`${name}: could not take pcc's key out of ~/.ssh/authorized_keys: ${key.stderr.trim()}`);
    report.takenOff.push('authorized-key');
  }
  await sshProvider(engine).forget([name]);
  await forgetHosts(engine, [host]);
  return report;
}
