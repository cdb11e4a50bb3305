import { readFile } from 'node:fs/promises';
import type { Duplex, Readable } from 'node:stream';
import { Client, type ClientChannel, type SFTPWrapper } from 'ssh2';
import { PccError } from '../../core/errors.js';
import type { HostRecord } from '../state.js';
import { HostKeyMismatchError, keyFromBlob, type KnownHosts } from './known-hosts.js';

/** Where and as whom to connect; `name` is pcc's host name, under which the host key is pinned. */
export interface SshTarget {
  name: string;
  host: string;
  port: number;
  user: string;
  identityFile: string;
  /** Credentials for a first login in place of identityFile (pcc add ssh): the user's key, agent or password. */
  login?: SshLogin;
}

export interface SshLogin {
  privateKey?: Buffer;
  /** An ssh-agent's socket. */
  agent?: string;
  password?: string;
}

/** The SSH target of a host pcc can reach. */
export function sshTarget(host: HostRecord): SshTarget {
  if (!host.ssh) throw new PccError(`${host.name} has no known SSH address (state ${host.state})`, { hint: `Resume it: pcc resume ${host.name}.` });
  return { name: host.name, ...host.ssh };
}

export interface ExecOptions {
  /** Run as root through `sudo -n`. */
  sudo?: boolean;
  /** Written (or piped) to the command's standard input, which is then closed. */
  stdin?: string | Readable;
  /** Give up (and close the channel) after this long. */
  timeoutMs?: number;
  /** Keep the output out of the host's log (machine-readable output such as facts). */
  quiet?: boolean;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type OutputSink = (host: string, stream: 'stdout' | 'stderr', line: string) => void;

export interface SshPoolOptions {
  knownHosts: KnownHosts;
  /** Every line a command prints, attributed to its host (the engine writes it to the host's log). */
  onOutput?: OutputSink;
  keepaliveIntervalMs?: number;
  /** Connection attempts before giving up; waits double from retryDelayMs between them. */
  connectAttempts?: number;
  retryDelayMs?: number;
  readyTimeoutMs?: number;
}

/** A command could not be run on a host, or its connection broke. */
export class SshError extends PccError {}

/** The host took none of the credentials offered. */
export class SshAuthError extends SshError {}

interface Connection {
  client: Client;
  target: SshTarget;
}

/**
 * SSH to pcc's hosts on ssh2: one pooled connection per host, reused by every command and upload,
 * kept alive, and re-opened with backoff when it drops. Host keys are pinned on first use in
 * KnownHosts; a key that differs from its pin refuses the connection before anything runs.
 */
export class SshPool {
  readonly #options: Required<Omit<SshPoolOptions, 'onOutput'>> & Pick<SshPoolOptions, 'onOutput'>;
  readonly #connections = new Map<string, Promise<Connection>>();

  constructor(options: SshPoolOptions) {
    this.#options = {
      keepaliveIntervalMs: 10_000,
      connectAttempts: 6,
      retryDelayMs: 500,
      readyTimeoutMs: 20_000,
      ...options,
    };
  }

  /** Runs a command; resolves with its exit code and output (a non-zero code is not an error). */
  async exec(target: SshTarget, command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const { client } = await this.#connection(target);
    const wrapped = options.sudo ? `sudo -n sh -c ${shellQuote(command)}` : command;
    return new Promise((resolve, reject) => {
      client.exec(wrapped, (error, channel) => {
        if (error) return reject(new SshError(`${target.name}: could not start a command: ${error.message}`));
        collect(target.name, channel, options, options.quiet ? undefined : this.#options.onOutput, resolve, reject);
      });
    });
  }

  /** Writes a file on the host over SFTP (as the login user; use exec with sudo to move it elsewhere). */
  async upload(target: SshTarget, remotePath: string, content: string | Buffer, mode = 0o644): Promise<void> {
    const { client } = await this.#connection(target);
    const sftp = await new Promise<SFTPWrapper>((resolve, reject) =>
      client.sftp((error, session) => (error ? reject(new SshError(`${target.name}: SFTP failed: ${error.message}`)) : resolve(session))),
    );
    try {
      await new Promise<void>((resolve, reject) =>
        sftp.writeFile(remotePath, content, { mode }, (error) =>
          error ? reject(new SshError(`${target.name}: could not write ${remotePath}: ${error.message}`)) : resolve(),
        ),
      );
    } finally {
      sftp.end();
    }
  }

  /** A stream to a Unix socket on the host (e.g. Docker's), over the host's pooled connection. */
  async openUnixSocket(target: SshTarget, socketPath: string): Promise<Duplex> {
    const { client } = await this.#connection(target);
    return new Promise((resolve, reject) =>
      client.openssh_forwardOutStreamLocal(socketPath, (error, channel) =>
        error ? reject(new SshError(`${target.name}: cannot open ${socketPath}: ${error.message}`)) : resolve(channel),
      ),
    );
  }

  /** A TCP stream to host:port as seen from the host (e.g. its registry on 127.0.0.1:5000). */
  async openTcp(target: SshTarget, host: string, port: number): Promise<Duplex> {
    const { client } = await this.#connection(target);
    return new Promise((resolve, reject) =>
      client.forwardOut('127.0.0.1', 0, host, port, (error, channel) =>
        error ? reject(new SshError(`${target.name}: cannot reach ${host}:${port} through SSH: ${error.message}`)) : resolve(channel),
      ),
    );
  }

  /** Closes a host's connection (after save or destroy; the next command opens a fresh one). */
  close(name: string): void {
    const pending = this.#connections.get(name);
    this.#connections.delete(name);
    pending?.then(({ client }) => client.end()).catch(() => undefined);
  }

  closeAll(): void {
    for (const name of [...this.#connections.keys()]) this.close(name);
  }

  #connection(target: SshTarget): Promise<Connection> {
    const existing = this.#connections.get(target.name);
    if (existing) {
      return existing.then((connection) =>
        sameEndpoint(connection.target, target) ? connection : (this.close(target.name), this.#connection(target)),
      );
    }
    const pending = this.#connectWithRetry(target);
    this.#connections.set(target.name, pending);
    pending.catch(() => this.#connections.delete(target.name));
    return pending;
  }

  async #connectWithRetry(target: SshTarget): Promise<Connection> {
    const login =
      target.login ??
      { privateKey: await readFile(target.identityFile).catch((error: Error) => {
        throw new SshError(`${target.name}: cannot read its SSH key ${target.identityFile}: ${error.message}`);
      }) };
    let lastError: Error | undefined;
    // A first login is to a machine that already runs: an address that does not answer is a typo, not a boot.
    const attempts = target.login ? 1 : this.#options.connectAttempts;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await sleep(this.#options.retryDelayMs * 2 ** (attempt - 1));
      try {
        return await this.#connect(target, login);
      } catch (error) {
        if (error instanceof HostKeyMismatchError) throw error;
        // A first login's credentials do not get better by retrying (pcc's own key may: a new machine installs it late).
        if (target.login && (error as { level?: string }).level === 'client-authentication') {
          throw new SshAuthError(`${target.user}@${target.host}:${target.port} took none of the credentials offered`);
        }
        lastError = error as Error;
      }
    }
    throw new SshError(
      `${target.name}: cannot connect to ${target.user}@${target.host}:${target.port} after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${lastError?.message}`,
      { hint: 'Check that the machine runs (pcc status) and that its address is current (pcc resume refreshes it).' },
    );
  }

  #connect(target: SshTarget, login: SshLogin): Promise<Connection> {
    const knownHosts = this.#options.knownHosts;
    return new Promise((resolve, reject) => {
      const client = new Client();
      let mismatch: HostKeyMismatchError | undefined;
      client
        .on('ready', () => {
          client.removeAllListeners('error');
          // A dropped connection leaves the pool, so the next command reconnects.
          client.on('error', () => this.#forgetIfCurrent(target.name, client));
          client.on('close', () => this.#forgetIfCurrent(target.name, client));
          resolve({ client, target });
        })
        .on('error', (error) => reject(mismatch ?? error))
        // Password logins are often keyboard-interactive: the password answers each prompt.
        .on('keyboard-interactive', (_name, _instructions, _language, prompts, finish) => finish(prompts.map(() => login.password ?? '')))
        .connect({
          host: target.host,
          port: target.port,
          username: target.user,
          ...login,
          tryKeyboard: login.password !== undefined,
          readyTimeout: this.#options.readyTimeoutMs,
          keepaliveInterval: this.#options.keepaliveIntervalMs,
          keepaliveCountMax: 3,
          // ed25519 first: the key pinned here is the one OpenSSH clients ask for through pcc's ssh config.
          algorithms: { serverHostKey: ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256'] },
          hostVerifier: (blob: Buffer, verify: (valid: boolean) => void) => {
            const key = keyFromBlob(blob);
            const verdict = knownHosts.check(target.name, key);
            if (verdict === 'match') return verify(true);
            if (verdict === 'mismatch') {
              mismatch = new HostKeyMismatchError(target.name, knownHosts.file, key);
              return verify(false);
            }
            knownHosts.pin(target.name, key).then(() => verify(true), () => verify(false));
          },
        });
    });
  }

  #forgetIfCurrent(name: string, client: Client): void {
    const pending = this.#connections.get(name);
    pending?.then((connection) => {
      if (connection.client === client) this.#connections.delete(name);
    }).catch(() => undefined);
  }
}

function collect(
  host: string,
  channel: ClientChannel,
  options: ExecOptions,
  onOutput: OutputSink | undefined,
  resolve: (result: ExecResult) => void,
  reject: (error: Error) => void,
): void {
  const output = { stdout: '', stderr: '' };
  const partial = { stdout: '', stderr: '' };
  const take = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    const text = chunk.toString();
    output[stream] += text;
    const lines = (partial[stream] + text).split('\n');
    partial[stream] = lines.pop() ?? '';
    for (const line of lines) onOutput?.(host, stream, line);
  };
  const timer = options.timeoutMs
    ? setTimeout(() => {
        channel.close();
        reject(new SshError(`${host}: command timed out after ${options.timeoutMs} ms`));
      }, options.timeoutMs)
    : undefined;
  channel.on('data', take('stdout'));
  channel.stderr.on('data', take('stderr'));
  let code: number | null = null;
  let signal: string | undefined;
  channel.on('exit', (exitCode: number | null, exitSignal?: string) => {
    code = exitCode;
    signal = exitSignal;
  });
  channel.on('close', () => {
    clearTimeout(timer);
    for (const stream of ['stdout', 'stderr'] as const) if (partial[stream]) onOutput?.(host, stream, partial[stream]);
    if (code === null) {
      reject(new SshError(`${host}: the connection closed before the command finished${signal ? ` (signal ${signal})` : ''}`));
    } else {
      resolve({ code, ...output });
    }
  });
  if (typeof options.stdin === 'string') channel.end(options.stdin);
  else if (options.stdin) options.stdin.pipe(channel);
  else channel.end();
}

function sameEndpoint(a: SshTarget, b: SshTarget): boolean {
  return a.host === b.host && a.port === b.port && a.user === b.user && a.identityFile === b.identityFile;
}

/** Quotes a string for a POSIX shell. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
