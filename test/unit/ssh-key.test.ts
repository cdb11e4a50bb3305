import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensurePccKey } from '../../src/core/ssh-key.js';
import { tempDir } from '../helpers/project.js';

describe("pcc's SSH key", () => {
  it('is made once, private key 0600, and the same key on every later call', () => {
    const dir = tempDir('pcc-state-');
    const first = ensurePccKey(dir, 'pcc-demo');
    expect(statSync(first.privateKeyFile).mode & 0o777).toBe(0o600);
    expect(first.publicKey).toMatch(/^ssh-ed25519 AAAA\S+ pcc-demo$/);
    expect(ensurePccKey(dir, 'pcc-demo')).toEqual(first);
  });

  it('a lost public key is rebuilt from the private key, which is never replaced', () => {
    const dir = tempDir('pcc-state-');
    const first = ensurePccKey(dir, 'pcc-demo');
    const privateKey = readFileSync(first.privateKeyFile, 'utf8');
    rmSync(`${first.privateKeyFile}.pub`);
    const again = ensurePccKey(dir, 'pcc-demo');
    expect(readFileSync(again.privateKeyFile, 'utf8')).toBe(privateKey);
    expect(again.publicKey).toBe(first.publicKey);
  });

  it('a public key that belongs to another private key is an error, and neither file changes', () => {
    const dir = tempDir('pcc-state-');
    const first = ensurePccKey(dir, 'pcc-demo');
    const other = ensurePccKey(tempDir('pcc-state-'), 'pcc-other');
    const privateKey = readFileSync(first.privateKeyFile, 'utf8');
    writeFileSync(`${first.privateKeyFile}.pub`, `${other.publicKey}\n`);
    expect(() => ensurePccKey(dir, 'pcc-demo')).toThrow(/id_ed25519\.pub does not belong to .*id_ed25519/);
    expect(readFileSync(first.privateKeyFile, 'utf8')).toBe(privateKey);
    expect(readFileSync(path.join(dir, 'ssh', 'id_ed25519.pub'), 'utf8')).toBe(`${other.publicKey}\n`);
  });
});

describe('the keys pcc makes', () => {
  it('are always ones ssh can load (ssh2 sometimes writes one it cannot read back)', () => {
    // One key in about 150 would be unreadable: 800 find one with near certainty if the check were gone.
    for (let index = 0; index < 800; index++) {
      const dir = tempDir('pcc-state-');
      expect(() => ensurePccKey(dir, 'pcc-demo')).not.toThrow();
      rmSync(dir, { recursive: true, force: true });
    }
    // 800 keys take about 2 s alone, longer on a busy 2-core machine.
  }, 30_000);
});
