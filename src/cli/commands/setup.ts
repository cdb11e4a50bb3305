import { parseArgs } from 'node:util';
import { UsageError } from '../../core/errors.js';
import type { Config } from '../../core/config/load.js';
import { hostSteps, setup } from '../../engine/setup/setup.js';
import type { Command } from '../command.js';
import { openEngine } from '../context.js';
import { print, printJson } from '../io.js';

/** The step ids named; an unknown id is a usage error that lists the ids. */
function chosenSteps(config: Config, list: string): string[] {
  const all = [...new Set([...hostSteps(config, 'init'), ...hostSteps(config, 'compute')])];
  const wanted = list.split(',').map((id) => id.trim()).filter(Boolean);
  const unknown = wanted.filter((id) => !all.some((step) => step.id === id));
  if (wanted.length === 0 || unknown.length > 0) {
    throw new UsageError(`--steps ${list}: ${unknown.length > 0 ? `unknown step ${unknown.join(', ')}` : 'no step named'}`, `Steps: ${all.map((step) => step.id).join(', ')}.`);
  }
  return wanted;
}

export const setupCommand: Command = {
  name: 'setup',
  usage: 'pcc setup PATTERN [--steps ID,...] [--dry-run] [--keep-docker-storage] [--json]',
  summary: 'set up hosts alike: btrfs Docker storage, Docker, $REGISTRY_HOST, CUDA, /project',
  details:
    'Each step inspects the host and changes only what differs, so a second run changes nothing.\n' +
    '--dry-run lists what each step would change. --steps runs only those steps, in setup order\n' +
    '(ids as pcc setup prints them). --keep-docker-storage: Docker keeps the storage these machines have\n' +
    '(your own machines whose Docker holds data), with no btrfs volume; recorded for later setups.\n' +
    'Exits 1 when a step failed on any host.',
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        steps: { type: 'string' },
        'keep-docker-storage': { type: 'boolean', default: false },
        project: { type: 'string' },
      },
    });
    if (positionals.length !== 1 || !positionals[0]) throw new UsageError('expected one host pattern', `Usage: ${this.usage}`);
    const engine = openEngine(io, values.project);
    try {
      const only = values.steps === undefined ? undefined : chosenSteps(engine.config, values.steps);
      const summary = await setup(engine, positionals[0], { dryRun: values['dry-run'], keepDockerStorage: values['keep-docker-storage'], ...(only ? { only } : {}) });
      if (values.json) {
        printJson(io, summary);
      } else {
        for (const host of summary.hosts) {
          print(io.stdout, `${host.host}: ${host.ok ? 'ok' : 'FAILED'}`);
          for (const step of host.steps) {
            const detail = step.outcome === 'failed' ? `: ${step.message}` : step.message ? ` (${step.message})` : '';
            print(io.stdout, `  ${step.step.padEnd(16)} ${step.outcome}${detail}`);
            for (const change of step.changes) print(io.stdout, `    - ${change}`);
          }
        }
      }
      return summary.ok ? 0 : 1;
    } finally {
      engine.ssh.closeAll();
    }
  },
};
