import { parseArgs } from 'node:util';
import { loadConfig, toolEnv } from '../../core/config/load.js';
import type { CheckStatus } from '../../engine/doctor.js';
import { findProjectRoot } from '../../engine/project.js';
import type { Command } from '../command.js';
import { print, printJson } from '../io.js';

const MARKS: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

export const doctorCommand: Command = {
  name: 'doctor',
  usage: 'pcc doctor [--json]',
  summary: 'check what pcc needs on this machine, with the command that fixes each missing item',
  details: 'Exits 1 when the configured provider (DEFAULT_PROVIDER, VAGRANT_PROVIDER) cannot work.',
  async run(args, io) {
    const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false }, project: { type: 'string' } } });
    const config = loadConfig(findProjectRoot(io.cwd, values.project ?? io.env.PCC_PROJECT), io.env);
    // Loaded on demand: the Docker and AWS clients it needs slow every other command's start.
    const { runDoctor } = await import('../../engine/doctor.js');
    const report = await runDoctor(config, toolEnv(config, io.env));
    if (values.json) {
      printJson(io, report);
    } else {
      print(io.stdout, `provider: ${report.provider}${report.provider === 'vagrant' ? ` (backend ${report.vagrantBackend})` : ''}`);
      for (const check of report.checks) {
        print(io.stdout, `[${MARKS[check.status]}] ${check.title}: ${check.detail}`);
        if (check.fix) print(io.stdout, `       fix: ${check.fix}`);
      }
      if (report.settings.length > 0) {
        print(io.stdout, 'settings (where each comes from; everything else is pcc\'s default):');
        for (const setting of report.settings) print(io.stdout, `       ${setting.key}=${setting.value}  (${setting.from})`);
      }
      print(io.stdout, report.ok ? 'pcc can work here.' : 'pcc cannot work here with this configuration: fix the FAIL items above.');
    }
    return report.ok ? 0 : 1;
  },
};
