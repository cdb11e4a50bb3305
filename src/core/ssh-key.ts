import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';
import { PccError } from './errors.js';

export interface PccKey {
  privateKeyFile: string;
  /** The OpenSSH public key line. */
  publicKey: string;
}

/**
 * pcc's own SSH key for machines it creates itself (EC2): made once per project, mode 0600. An
 * existing private key is never replaced (hosts already trust it): a missing public key is rebuilt
 * from it, and one that does not match it is an error rather than a new pair.
 */
export function ensurePccKey(stateDir: string, comment: string): PccKey {
  const dir = path.join(stateDir, 'ssh');
  const privateKeyFile = path.join(dir, 'id_ed25519');
  const publicFile = `${privateKeyFile}.pub`;
  if (!existsSync(privateKeyFile)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const keys = loadableKeyPair(comment);
    // wx: a key another pcc wrote meanwhile wins; this one is dropped.
    writeFileSync(privateKeyFile, keys.private, { mode: 0o600, flag: 'wx' });
    writeFileSync(publicFile, `${keys.public}\n`, { mode: 0o644 });
  }
  const derived = publicKeyOf(privateKeyFile);
  if (!existsSync(publicFile)) writeFileSync(publicFile, `${derived} ${comment}\n`, { mode: 0o644 });
  const written = readFileSync(publicFile, 'utf8').trim();
  if (written.split(/\s+/).slice(0, 2).join(' ') !== derived) {
    throw new PccError(`${publicFile} does not belong to ${privateKeyFile}`, {
      hint: `Delete ${publicFile}: pcc rebuilds it from the private key (which hosts trust) on the next run.`,
    });
  }
  return { privateKeyFile, publicKey: written };
}

/**
 * A new ed25519 key pair that ssh can load. ssh2's generator writes, now and then (about one key in
 * 150 here), a private key that neither ssh2 nor OpenSSH can read back; such a pair is made again.
 */
function loadableKeyPair(comment: string): { private: string; public: string } {
  for (let attempt = 0; attempt < 20; attempt++) {
    const keys = ssh2.utils.generateKeyPairSync('ed25519', { comment });
    if (!(ssh2.utils.parseKey(keys.private) instanceof Error)) return keys;
  }
  throw new PccError('could not make an SSH key that ssh can read', { hint: 'Run the command again.' });
}

/** "ssh-ed25519 AAAA..." of a private key file. */
function publicKeyOf(privateKeyFile: string): string {
  const parsed = ssh2.utils.parseKey(readFileSync(privateKeyFile));
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error) {
    throw new PccError(`${privateKeyFile} is not a private key pcc can read: ${key instanceof Error ? key.message : 'empty'}`, {
      hint: 'Restore it from a backup; hosts made with it accept no other key. Remove it only if no host needs it any more.',
    });
  }
  return `${key.type} ${key.getPublicSSH().toString('base64')}`;
}
