import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { PccError } from '../../core/errors.js';
import { withFileLock, writeFileAtomic } from '../../core/files.js';
import { hostGroups } from '../inventory.js';
import { checkHostFields, type HostRecord } from '../state.js';

/** One host's entry in pcc's ssh config file. */
export interface SshConfigHost {
  name: string;
  aliases: string[];
  host: string;
  port: number;
  user: string;
  identityFile: string;
}

const HOST_OR_MATCH = /^\s*(host|match)\s/i;

/**
 * The user's ~/.ssh/config and pcc's own file beside it. pcc writes its entries only to
 * `~/.ssh/config.d/pcc-PROJECT` and keeps one `Include` line for those files before the first Host or
 * Match block of ~/.ssh/config; every other byte of the user's file stays as it was. Entries pin host
 * keys through pcc's known_hosts file (HostKeyAlias = the host's name), never StrictHostKeyChecking no.
 */
export class SshConfigFiles {
  readonly userConfig: string;
  readonly pccFile: string;
  readonly includeLine: string;

  constructor(
    home: string,
    project: string,
    private readonly knownHostsFile: string,
  ) {
    const sshDir = path.join(home, '.ssh');
    this.userConfig = path.join(sshDir, 'config');
    this.pccFile = path.join(sshDir, 'config.d', `pcc-${project}`);
    // Absolute: ssh resolves ~ from the password database, not $HOME.
    this.includeLine = `Include ${path.join(sshDir, 'config.d', 'pcc-*')}`;
  }

  /** Rewrites pcc's file from state's records: every host with an address that still exists. */
  async writeHosts(records: Record<string, HostRecord>): Promise<void> {
    const hosts = Object.values(records).filter((host) => host.ssh && host.state !== 'gone' && host.state !== 'not-created');
    await this.write(
      hosts.map((host) => ({
        name: host.name,
        // A group that is the host's own name (an EC2 host named after its instance id) adds no alias.
        aliases: hostGroups(host).filter((group) => group !== host.name).map((group) => `${group}-${host.name}`),
        ...(host.ssh as NonNullable<HostRecord['ssh']>),
      })),
    );
  }

  /** Rewrites pcc's file with exactly these hosts (removing it when none are left). */
  async write(hosts: SshConfigHost[]): Promise<void> {
    // Checked before anything is touched: the user's own ssh keeps working whatever pcc was given.
    const text = hosts.length === 0 ? undefined : this.render(hosts);
    if (text !== undefined) this.#ensureFolders();
    await withFileLock(this.pccFile, async () => {
      if (text === undefined) {
        rmSync(this.pccFile, { force: true });
        return;
      }
      await this.#ensureInclude();
      await writeFileAtomic(this.pccFile, text ?? '', 0o600);
    });
  }

  /** The text of pcc's file for these hosts; a field that could add an option or split a line is refused. */
  render(hosts: SshConfigHost[]): string {
    for (const host of hosts) {
      checkHostFields({ name: host.name, ssh: host, extras: {} }, 'ssh config');
      for (const alias of host.aliases) checkHostFields({ name: alias, extras: {} }, `ssh config alias of ${host.name}`);
    }
    const blocks = [...hosts]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((host) =>
        [
          `Host ${[host.name, ...host.aliases].join(' ')}`,
          `  HostName ${host.host}`,
          `  Port ${host.port}`,
          `  User ${host.user}`,
          `  IdentityFile "${host.identityFile}"`,
          '  IdentitiesOnly yes',
          `  HostKeyAlias ${host.name}`,
          `  UserKnownHostsFile "${this.knownHostsFile}"`,
          '  StrictHostKeyChecking yes',
        ].join('\n'),
      );
    return `# Written by pcc; rewritten on every change, removed when the last host is destroyed.\n\n${blocks.join('\n\n')}\n`;
  }

  /**
   * Adds pcc's Include line before the first Host/Match block, unless it is already there. A config
   * the user made read-only, or one another user owns, is theirs to change: pcc refuses and says what
   * to add, rather than replacing it.
   */
  async #ensureInclude(): Promise<void> {
    await withFileLock(this.userConfig, async () => {
      if (!existsSync(this.userConfig)) {
        await writeFileAtomic(this.userConfig, `${this.includeLine}\n`, 0o600);
        return;
      }
      const info = statSync(this.userConfig);
      if (!info.isFile()) throw this.#refusal('is not a file');
      const text = readFileSync(this.userConfig, 'utf8');
      const lines = text.split('\n');
      const firstBlock = lines.findIndex((line) => HOST_OR_MATCH.test(line));
      const globalPart = firstBlock === -1 ? lines : lines.slice(0, firstBlock);
      if (globalPart.some((line) => line.trim() === this.includeLine)) return;
      const uid = process.getuid?.();
      if (uid !== undefined && info.uid !== uid) throw this.#refusal(`belongs to another user (uid ${info.uid})`);
      const mode = info.mode & 0o777;
      if ((mode & 0o200) === 0) throw this.#refusal('is read-only');
      await writeFileAtomic(this.userConfig, `${this.includeLine}\n${text}`, mode);
      chmodSync(this.userConfig, mode);
    });
  }

  #refusal(why: string): PccError {
    return new PccError(`${this.userConfig} ${why}: pcc leaves it as it is`, {
      hint: `Add this line at its top yourself, then run the command again: ${this.includeLine}`,
    });
  }

  /** ~/.ssh and ~/.ssh/config.d as ssh wants them: folders only their owner can open. */
  #ensureFolders(): void {
    for (const dir of [path.dirname(this.userConfig), path.dirname(this.pccFile)]) {
      try {
        if (!existsSync(dir)) mkdirSync(dir, { mode: 0o700 });
        else if (!statSync(dir).isDirectory()) throw new Error('it is not a folder');
      } catch (error) {
        throw new PccError(`cannot use ${dir} for pcc's SSH entries: ${(error as Error).message}`, {
          hint: `Make ${dir} a folder you own (mode 0700), then run the command again.`,
        });
      }
    }
  }
}
