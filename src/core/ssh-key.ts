import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';

export interface PccKey {
  privateKeyFile: string;
  /** The OpenSSH public key line. */
  publicKey: string;
}

/** pcc's own SSH key for machines it creates itself (EC2): made once per project, mode 0600. */
export function ensurePccKey(stateDir: string, comment: string): PccKey {
  const dir = path.join(stateDir, 'ssh');
  const privateKeyFile = path.join(dir, 'id_ed25519');
  const publicFile = `${privateKeyFile}.pub`;
  if (!existsSync(privateKeyFile) || !existsSync(publicFile)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const keys = ssh2.utils.generateKeyPairSync('ed25519', { comment });
    writeFileSync(privateKeyFile, keys.private, { mode: 0o600 });
    writeFileSync(publicFile, `${keys.public}\n`, { mode: 0o644 });
  }
  return { privateKeyFile, publicKey: readFileSync(publicFile, 'utf8').trim() };
}
