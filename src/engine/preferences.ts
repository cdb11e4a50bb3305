import os from 'node:os';
import path from 'node:path';
import type { ComputeType, ProviderName } from '../providers/provider.js';

/** The last machines brought up from the terminal UI: its bring-up menu starts on them next time. */
export interface LastUp {
  provider: ProviderName;
  computeType: ComputeType;
  count: number;
  /** Set the machines up once they run (absent in files written before it existed: yes). */
  setup?: boolean;
}

interface PreferenceValues {
  lastUp?: LastUp;
}

type Store = { get(key: 'lastUp'): LastUp | undefined; set(key: 'lastUp', value: LastUp): void };

const SCHEMA = {
  lastUp: {
    type: 'object',
    properties: {
      provider: { enum: ['vagrant', 'ec2'] },
      computeType: { enum: ['cpu', 'gpu'] },
      count: { type: 'integer', minimum: 1 },
      setup: { type: 'boolean' },
    },
    required: ['provider', 'computeType', 'count'],
    additionalProperties: false,
  },
} as const;

/**
 * One user's preferences across projects, in `$XDG_CONFIG_HOME/pcc/preferences.json` (default
 * `~/.config/pcc/`), kept by `conf`. Project settings stay in the project's config/ files.
 * `conf` loads on first use, after the UI's first frame. A file pcc cannot read is left untouched
 * (the user may be editing it): pcc says so and keeps this run's preferences in memory.
 */
export class UserPreferences {
  readonly file: string;
  readonly #warn: (message: string) => void;
  #store: Promise<Store> | undefined;

  constructor(env: NodeJS.ProcessEnv, warn: (message: string) => void) {
    const configHome = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
    this.file = path.join(configHome, 'pcc', 'preferences.json');
    this.#warn = warn;
  }

  async lastUp(): Promise<LastUp | undefined> {
    return (await this.#open()).get('lastUp');
  }

  async rememberUp(choice: LastUp): Promise<void> {
    const store = await this.#open();
    try {
      store.set('lastUp', choice);
    } catch (error) {
      this.#warn(`could not save your preferences to ${this.file}: ${(error as Error).message}`);
    }
  }

  #open(): Promise<Store> {
    this.#store ??= this.#load();
    return this.#store;
  }

  async #load(): Promise<Store> {
    const { default: Conf } = await import('conf');
    try {
      return new Conf<PreferenceValues>({
        cwd: path.dirname(this.file),
        configName: path.basename(this.file, '.json'),
        schema: SCHEMA,
        clearInvalidConfig: false,
        configFileMode: 0o600,
      });
    } catch (error) {
      this.#warn(`ignoring ${this.file} (${(error as Error).message}); fix or delete it to keep preferences again`);
      return memoryStore();
    }
  }
}

function memoryStore(): Store {
  const values: PreferenceValues = {};
  return {
    get: (key) => values[key],
    set: (key, value) => {
      values[key] = value;
    },
  };
}
