import { parseArgs } from 'node:util';
import { UsageError } from '../../core/errors.js';
import { destroy, resume, save, up, viewOf, type HostView } from '../../engine/lifecycle.js';
import { reconcile } from '../../engine/reconcile.js';
import { relaunchInterrupted } from '../../engine/spot-relaunch.js';
import { PROVIDERS } from '../../core/config/schema.js';
import type { ComputeType, ProviderName } from '../../providers/provider.js';
import { common, type Command } from '../command.js';
import { openEngine, projectConfig } from '../context.js';
import { age } from '../../engine/units.js';
import { costLine } from '../../engine/cost.js';
import { print, printJson, printTable, type CliIo } from '../io.js';
import { createEngine, type Engine } from '../../engine/engine.js';
import { RUN_ID } from '../../engine/run-records.js';
import { printRunLogs } from './runs.js';

export function printHosts(io: CliIo, hosts: HostView[], json: boolean): void {
  if (json) return printJson(io, hosts);
  if (hosts.length === 0) return print(io.stdout, 'no hosts — bring one up with: pcc up vagrant');
  const now = Date.now();
  const stateText = (h: HostView) =>
    `${h.selfStop && h.state !== 'running' ? `${h.state} (${h.selfStop.reason})` : h.state}${h.replacedBy ? `, replaced by ${h.replacedBy}` : ''}`;
  const setupOf = (setup: HostView['setup']) =>
    !setup ? 'never' : setup.ok ? `ok ${age((now - Date.parse(setup.at)) / 1000)} ago` : `failed: ${setup.failures.map((failure) => failure.step).join(',')}`;
  // Only where a provider bills: a laptop's Vagrant machines cost nothing to show.
  const billed = hosts.some((h) => h.cost);
  const rows = [
    ['NAME', 'PROVIDER', 'STATE', 'ADDRESS', 'GROUPS', 'SETUP', ...(billed ? ['COST'] : [])],
    ...hosts.map((h) => [
      h.name, h.provider, stateText(h), h.address ?? '-', h.groups.join(','), setupOf(h.setup),
      ...(billed ? [h.cost ? costLine(h.cost, now) : '-'] : []),
    ]),
  ];
  printTable(io.stdout, rows);
}

/** Opens the engine, runs a host command, prints the hosts it returns; closes SSH connections either way. */
export async function hostsCommand(io: CliIo, values: { project?: string | undefined; json: boolean }, work: (engine: Engine) => Promise<HostView[]>): Promise<number> {
  const engine = openEngine(io, values.project);
  try {
    printHosts(io, await work(engine), values.json);
    return 0;
  } finally {
    engine.ssh.closeAll();
  }
}

/** --type's value. */
export function computeTypeOf(value: string): ComputeType {
  if (value !== 'cpu' && value !== 'gpu') throw new UsageError(`--type ${value}: expected cpu or gpu`);
  return value;
}

function onePattern(positionals: string[], usage: string): string {
  if (positionals.length !== 1 || !positionals[0]) throw new UsageError(`expected one host pattern`, `Usage: ${usage}`);
  return positionals[0];
}

export const upCommand: Command = {
  name: 'up',
  usage: 'pcc up [PROVIDER] [--count N] [--type cpu|gpu] [--instance-type T] [--spot [--relaunch]] [--setup] [--json]',
  summary: 'bring up N new compute machines (PROVIDER: vagrant or ec2; default DEFAULT_PROVIDER)',
  details:
    '--setup: run the host setup on them once they answer (as pcc setup does); exits 1 if a step failed.\n' +
    'ec2: --instance-type overrides EC2_INSTANCE_TYPE_CPU/GPU; --spot asks for spot capacity (a persistent\n' +
    'request; an interruption stops the instance, and only EC2 starts it again). --relaunch: when EC2\n' +
    'interrupts such a host, pcc status (or pcc) brings up a replacement of the same type and sets it up.',
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...common,
        count: { type: 'string', default: '1' },
        type: { type: 'string', default: 'cpu' },
        'instance-type': { type: 'string' },
        spot: { type: 'boolean', default: false },
        relaunch: { type: 'boolean', default: false },
        setup: { type: 'boolean', default: false },
      },
    });
    const count = Number(values.count);
    if (!/^\d+$/.test(values.count) || count < 1 || count > 64) throw new UsageError(`--count ${values.count}: expected a whole number from 1 to 64`);
    const computeType = computeTypeOf(values.type);
    if (positionals.length > 1) throw new UsageError('expected at most one provider', `Usage: ${this.usage}`);
    const providerName = positionals[0] ?? projectConfig(io, values.project).defaultProvider;
    if (providerName === 'ssh') throw new UsageError('the ssh provider makes no machines: it adds machines you already have', 'pcc add ssh USER@HOST[:PORT] [--name NAME]');
    if (!(PROVIDERS as readonly string[]).includes(providerName)) {
      throw new UsageError(`unknown provider: ${providerName}`, `Providers: ${PROVIDERS.join(', ')}.`);
    }
    const options = {
      count,
      computeType,
      ...(values['instance-type'] !== undefined ? { machineType: values['instance-type'] } : {}),
      ...(values.spot ? { spot: true } : {}),
      ...(values.relaunch ? { relaunch: true } : {}),
      ...(values.setup ? { setup: true } : {}),
    };
    return hostsCommand(io, values, (engine) => up(engine, providerName as ProviderName, options));
  },
};

export const statusCommand: Command = {
  name: 'status',
  usage: 'pcc status [--json]',
  summary: "list the project's hosts: name, provider, state, address, groups, last setup",
  async run(args, io) {
    const { values } = parseArgs({ args, options: common });
    const engine = openEngine(io, values.project);
    const hosts = await relaunchInterrupted(engine, await reconcile(engine));
    printHosts(io, hosts.map((host) => viewOf(engine, host)).sort((a, b) => a.name.localeCompare(b.name)), values.json);
    return 0;
  },
};

const PATTERN_HELP = 'PATTERN: a host name, a group (vagrant, ec2, ssh, cpu, gpu, init, an EC2 instance type or id), a glob like vagrant*, a comma list, or all.';

export const saveCommand: Command = {
  name: 'save',
  usage: 'pcc save PATTERN [--image] [--json]',
  summary: 'save hosts (suspend; power off or EC2 stop where the provider cannot suspend)',
  details: `${PATTERN_HELP}\n--image (ec2): save each host as an image and terminate it; pcc resume launches it again from the image.`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...common, image: { type: 'boolean', default: false } } });
    const pattern = onePattern(positionals, this.usage);
    return hostsCommand(io, values, (engine) => save(engine, pattern, { image: values.image }));
  },
};

export const resumeCommand: Command = {
  name: 'resume',
  usage: 'pcc resume PATTERN [--json]',
  summary: 'start saved hosts again, refresh their SSH entries, repeat their host setup',
  details: `${PATTERN_HELP}\nHosts that were set up (pcc setup) get the same setup again; it changes only what differs.`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: common });
    const pattern = onePattern(positionals, this.usage);
    return hostsCommand(io, values, (engine) => resume(engine, pattern));
  },
};

export const destroyCommand: Command = {
  name: 'destroy',
  usage: 'pcc destroy PATTERN --yes [--json]',
  summary: 'destroy hosts and remove their SSH entries and pinned keys',
  details:
    'Without --yes nothing is destroyed. PATTERN as for save; a provider name (vagrant, ec2) destroys all\n' +
    "its hosts. For EC2 it then deletes the security group and key pair once unused and lists whatever is\n" +
    'still tagged for the project in AWS, with the reason.',
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...common, yes: { type: 'boolean', default: false } } });
    const pattern = onePattern(positionals, this.usage);
    if (!values.yes) {
      throw new UsageError(`refusing to destroy "${pattern}" without --yes`, `Destroying loses the machines and their data; run: pcc destroy ${pattern} --yes`);
    }
    const engine = openEngine(io, values.project);
    try {
      const report = await destroy(engine, pattern);
      if (values.json) printJson(io, report);
      else {
        print(io.stdout, `destroyed: ${report.destroyed.join(', ') || 'no host'}`);
        for (const item of report.left) print(io.stdout, `left in ${item.provider}: ${item.kind} ${item.id}: ${item.reason}`);
      }
      return 0;
    } finally {
      // The overlay's other members were told of the leave over SSH.
      engine.ssh.closeAll();
    }
  },
};

export const sshConfigCommand: Command = {
  name: 'ssh-config',
  usage: 'pcc ssh-config',
  summary: 'print the ~/.ssh/config entries pcc manages for this project',
  async run(args, io) {
    const { values } = parseArgs({ args, options: { project: common.project } });
    const engine = createEngine(projectConfig(io, values.project), { env: io.env });
    await engine.sshConfig.writeHosts(engine.state.read().hosts);
    const { readFileSync, existsSync } = await import('node:fs');
    print(io.stdout, existsSync(engine.sshConfig.pccFile) ? readFileSync(engine.sshConfig.pccFile, 'utf8') : '# no hosts');
    return 0;
  },
};

export const logsCommand: Command = {
  name: 'logs',
  usage: 'pcc logs HOST|JOB',
  summary: "print a host's log (everything pcc's work on it printed), or a run's output (live while it runs)",
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { project: common.project } });
    const host = onePattern(positionals, this.usage);
    if (RUN_ID.test(host)) return printRunLogs(io, values.project, host);
    const engine = createEngine(projectConfig(io, values.project), { env: io.env });
    io.stdout.write(engine.logs.read(host));
    return 0;
  },
};

export const forgetKeyCommand: Command = {
  name: 'forget-key',
  usage: 'pcc forget-key HOST',
  summary: "drop a host's pinned SSH key (after you re-created the machine yourself)",
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { project: common.project } });
    const host = onePattern(positionals, this.usage);
    const engine = createEngine(projectConfig(io, values.project), { env: io.env });
    await engine.knownHosts.forget(host);
    print(io.stdout, `forgot the pinned key of ${host}; the next connection pins the key it presents`);
    return 0;
  },
};
