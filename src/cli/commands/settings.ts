import { parseArgs } from 'node:util';
import { configuredSettings, SETTINGS_FILE } from '../../core/config/load.js';
import { UsageError } from '../../core/errors.js';
import { findProjectRoot } from '../../engine/project.js';
import { changeSettings } from '../../engine/settings.js';
import type { Command } from '../command.js';
import { projectConfig } from '../context.js';
import { print, printJson } from '../io.js';

export const settingsCommand: Command = {
  name: 'settings',
  usage: 'pcc settings [set KEY=VALUE... | unset KEY...] [--json]',
  summary: 'show every setting and where it comes from; remember settings for this project on this machine',
  details:
    `set/unset write ${SETTINGS_FILE}: it holds in every new shell, below the environment and above config/.\n` +
    'Secrets (AWS keys) are never remembered there: they stay in config/.private. A change that would leave\n' +
    'the configuration invalid is refused and nothing is written.',
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false }, project: { type: 'string' } } });
    const [action, ...rest] = positionals;
    let config;
    if (action === undefined) {
      config = projectConfig(io, values.project);
    } else if (action === 'set' || action === 'unset') {
      if (rest.length === 0) throw new UsageError(`pcc settings ${action}: nothing to ${action}`, `Usage: ${this.usage}`);
      const changes = new Map<string, string | undefined>();
      for (const item of rest) {
        if (action === 'unset') {
          changes.set(item, undefined);
          continue;
        }
        const at = item.indexOf('=');
        if (at <= 0) throw new UsageError(`pcc settings set ${item}: expected KEY=VALUE`, 'For example: pcc settings set VAGRANT_PROVIDER=libvirt');
        changes.set(item.slice(0, at), item.slice(at + 1));
      }
      config = await changeSettings(findProjectRoot(io.cwd, values.project ?? io.env.PCC_PROJECT), io.env, changes);
    } else {
      throw new UsageError(`pcc settings ${action}: expected set or unset`, `Usage: ${this.usage}`);
    }
    const settings = configuredSettings(config);
    if (values.json) printJson(io, settings);
    else if (settings.length === 0) print(io.stdout, "every setting is pcc's default (the README lists them)");
    else for (const setting of settings) print(io.stdout, `${setting.key}=${setting.value}  (${setting.from})`);
    return 0;
  },
};
