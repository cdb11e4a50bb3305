import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseEnvFile } from '../core/config/envfile.js';
import { checkRememberable, loadConfig, SETTINGS_FILE, type Config } from '../core/config/load.js';
import { KEYS, type ConfigKey } from '../core/config/schema.js';
import { ConfigError } from '../core/errors.js';
import { withFileLock, writeFileAtomic } from '../core/files.js';

/**
 * Settings this machine remembers for one project in `.pcc/settings.env`, so a choice made once (the
 * quick start's local backend, `pcc settings set`) holds in every new shell with nothing exported.
 */

const HEADER = '# Settings this machine remembers for the project (pcc settings set/unset); the environment overrides them.\n';

/** A value dotenv reads back exactly: bare when plain, else single-quoted (no escapes inside). */
function written(key: ConfigKey, value: string): string {
  if (/^[A-Za-z0-9_.,:/@+=%-]*$/.test(value)) return value;
  if (value.includes("'") || /[\n\r]/.test(value)) throw new ConfigError(`${key}: a remembered value cannot hold a quote or a line break`);
  return `'${value}'`;
}

/**
 * Sets (a string) or forgets (undefined) each key, then loads the whole configuration with the change;
 * a change that leaves it invalid is undone and its error thrown, so the file never breaks pcc.
 */
export async function changeSettings(root: string, env: NodeJS.ProcessEnv, changes: Map<string, string | undefined>): Promise<Config> {
  const file = path.join(root, SETTINGS_FILE);
  for (const [key, value] of changes) {
    const known = checkRememberable(key, 'pcc settings');
    if (value === undefined) continue;
    const parsed = KEYS[known].schema.safeParse(value);
    if (!parsed.success) throw new ConfigError(`${key}=${JSON.stringify(value)}: ${parsed.error.issues[0]?.message}`);
  }
  mkdirSync(path.dirname(file), { recursive: true });
  return withFileLock(file, async () => {
    const before = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    const entries = new Map((before ? parseEnvFile(before, SETTINGS_FILE) : []).map((entry) => [entry.key, entry.value]));
    for (const [key, value] of changes) {
      if (value === undefined) entries.delete(key);
      else entries.set(key, value);
    }
    const lines = [...entries].map(([key, value]) => `${key}=${written(key as ConfigKey, value)}\n`);
    if (lines.length === 0) rmSync(file, { force: true });
    else await writeFileAtomic(file, HEADER + lines.join(''), 0o600);
    try {
      return loadConfig(root, env);
    } catch (error) {
      if (before === undefined) rmSync(file, { force: true });
      else await writeFileAtomic(file, before, 0o600);
      throw error;
    }
  });
}
