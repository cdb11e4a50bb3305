import { readFileSync } from 'node:fs';

/** pcc's version, read from its package.json (two folders up from this file in src/ and in dist/). */
export function pccVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}
