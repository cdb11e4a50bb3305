import { readFileSync } from 'node:fs';

/**
 * Reads a file shipped with pcc (a Vagrantfile, a host script) by its path from pcc's root. Source
 * files sit at the same depth in src/ and dist/, so the same relative URL works from both.
 */
export function readAsset(pathFromRoot: string): string {
  return readFileSync(new URL(`../../${pathFromRoot}`, import.meta.url), 'utf8');
}
