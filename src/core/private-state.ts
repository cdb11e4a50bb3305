import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from './errors.js';

/**
 * What pcc keeps out of the project folder, because init can write that folder (it serves it over
 * NFS): its SSH key, the pinned host keys, the Vagrantfile Vagrant runs and Vagrant's machine data,
 * the registry's CA and login, and the host records pcc acts on. Earlier versions kept them in `.pcc/`.
 */
const PRIVATE_ENTRIES = ['state.json', 'ssh', 'known_hosts', 'vagrant', 'ec2'];

/** The file in the private folder that names the project folder it belongs to. */
const OWNER_FILE = 'project';

/**
 * The project's private folder, `$XDG_STATE_HOME/pcc/projects/ID` (default `~/.local/state`). It
 * records which project folder it belongs to, so a copied folder (same identity) cannot take over
 * the original's machines, while a moved one carries on. State an earlier pcc left in `.pcc/` is
 * moved here once.
 */
export function privateStateDir(root: string, env: NodeJS.ProcessEnv, id: string): string {
  const stateHome = env.XDG_STATE_HOME || path.join(env.HOME || os.homedir(), '.local', 'state');
  const dir = path.join(stateHome, 'pcc', 'projects', id);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  claim(dir, realpathSync(root), id);
  adoptEarlierState(path.join(root, '.pcc'), dir);
  return dir;
}

function claim(dir: string, root: string, id: string): void {
  const ownerFile = path.join(dir, OWNER_FILE);
  const owner = existsSync(ownerFile) ? readFileSync(ownerFile, 'utf8').trim() : undefined;
  if (owner === root) return;
  if (owner && sameIdentity(owner, id)) {
    throw new ConfigError(
      `${root} has the project identity ${id} of ${owner}, whose machines pcc keeps in ${dir}`,
      `If this folder is a copy, give it its own identity: delete ${path.join(root, '.pcc', 'project-id')}. If you moved the project, remove ${path.join(owner, '.pcc', 'project-id')} from the old folder.`,
    );
  }
  // New, or the project folder moved (its old place no longer holds this identity).
  writeFileSync(ownerFile, `${root}\n`, { mode: 0o600 });
}

function sameIdentity(folder: string, id: string): boolean {
  try {
    return readFileSync(path.join(folder, '.pcc', 'project-id'), 'utf8').trim() === id;
  } catch {
    return false;
  }
}

function adoptEarlierState(earlierDir: string, dir: string): void {
  for (const entry of PRIVATE_ENTRIES) {
    const from = path.join(earlierDir, entry);
    const to = path.join(dir, entry);
    if (!existsSync(from) || existsSync(to)) continue;
    try {
      renameSync(from, to);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      // Another filesystem: copy whole, then remove the original.
      cpSync(from, to, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      rmSync(from, { recursive: true, force: true });
    }
  }
}
