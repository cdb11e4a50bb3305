import { existsSync, readFileSync } from 'node:fs';
import { PccError } from '../../core/errors.js';
import { withFileLock, writeFileAtomic } from '../../core/files.js';

/** A host's key as a known_hosts line has it: type and base64 blob. */
export interface PinnedKey {
  type: string;
  base64: string;
}

export type PinCheck = 'match' | 'unknown' | 'mismatch';

/** The host key a machine presented differs from the one pinned for it. */
export class HostKeyMismatchError extends PccError {
  constructor(host: string, file: string, presented: PinnedKey) {
    super(
      `host key of ${host} has changed: it presented a ${presented.type} key that is not the one pinned in ${file}; ` +
        'nothing was run on it',
      {
        hint:
          'Someone may be intercepting the connection, or the machine was re-created outside pcc. ' +
          `If you re-created it yourself, run: pcc forget-key ${host}`,
      },
    );
  }
}

/**
 * `known_hosts` in the private state: host keys pinned on first use, one line per key, keyed by pcc's host name
 * (the ssh config entries set HostKeyAlias to it, so the system ssh client reads the same pins).
 */
export class KnownHosts {
  constructor(readonly file: string) {}

  check(host: string, presented: PinnedKey): PinCheck {
    const pinned = this.#read().filter((entry) => entry.host === host);
    if (pinned.length === 0) return 'unknown';
    return pinned.some((entry) => entry.type === presented.type && entry.base64 === presented.base64) ? 'match' : 'mismatch';
  }

  async pin(host: string, key: PinnedKey): Promise<void> {
    await this.#update((entries) => [...entries.filter((entry) => entry.host !== host), { host, ...key }]);
  }

  /** Drops a host's pin: when pcc itself re-creates or destroys the machine. */
  async forget(host: string): Promise<void> {
    await this.#update((entries) => entries.filter((entry) => entry.host !== host));
  }

  #read(): (PinnedKey & { host: string })[] {
    if (!existsSync(this.file)) return [];
    return readFileSync(this.file, 'utf8')
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields.length >= 3 && !fields[0]?.startsWith('#'))
      .map(([host, type, base64]) => ({ host: host ?? '', type: type ?? '', base64: base64 ?? '' }));
  }

  async #update(change: (entries: (PinnedKey & { host: string })[]) => (PinnedKey & { host: string })[]): Promise<void> {
    await withFileLock(this.file, async () => {
      const entries = change(this.#read());
      await writeFileAtomic(this.file, entries.map((entry) => `${entry.host} ${entry.type} ${entry.base64}\n`).join(''), 0o600);
    });
  }
}

/** Turns the raw key blob ssh2 hands to hostVerifier into a known_hosts key (the type is its first field). */
export function keyFromBlob(blob: Buffer): PinnedKey {
  const length = blob.readUInt32BE(0);
  return { type: blob.subarray(4, 4 + length).toString('ascii'), base64: blob.toString('base64') };
}
