import { parseArgs } from 'node:util';
import { UsageError } from '../../engine/errors.js';
import { destroy, reconcile, resume, save, up, viewOf, writeSshConfig, type HostView } from '../../engine/lifecycle.js';
import { PROVIDERS } from '../../engine/config/schema.js';
import type { ComputeType, ProviderName } from '../../providers/provider.js';
import type { Command } from '../command.js';
import { openEngine, projectConfig } from '../context.js';
import { print, printJson, type CliIo } from '../io.js';
import { createEngine } from '../../engine/engine.js';

const common = { json: { type: 'boolean', default: false }, project: { type: 'string' } } as const;

function printHosts(io: CliIo, hosts: HostView[], json: boolean): void {
  if (json) return printJson(io, hosts);
  if (hosts.length === 0) return print(io.stdout, 'no hosts — bring one up with: pcc up vagrant');
  const rows = [['NAME', 'PROVIDER', 'STATE', 'ADDRESS', 'GROUPS'], ...hosts.map((h) => [h.name, h.provider, h.state, h.address ?? '-', h.groups.join(',')])];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  for (const row of rows) print(io.stdout, row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
}

function onePattern(positionals: string[], usage: string): string {
  if (positionals.length !== 1 || !positionals[0]) throw new UsageError(`expected one host pattern`, `Usage: ${usage}`);
  return positionals[0];
}

export const upCommand: Command = {
  name: 'up',
  usage: 'pcc up [PROVIDER] [--count N] [--type cpu|gpu] [--json]',
  summary: 'bring up N new compute machines (PROVIDER: vagrant; default DEFAULT_PROVIDER)',
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { ...common, count: { type: 'string', default: '1' }, type: { type: 'string', default: 'cpu' } },
    });
    const count = Number(values.count);
    if (!/^\d+$/.test(values.count) || count < 1 || count > 64) throw new UsageError(`--count ${values.count}: expected a whole number from 1 to 64`);
    if (values.type !== 'cpu' && values.type !== 'gpu') throw new UsageError(`--type ${values.type}: expected cpu or gpu`);
    if (positionals.length > 1) throw new UsageError('expected at most one provider', `Usage: ${this.usage}`);
    const engine = openEngine(io, values.project);
    const providerName = positionals[0] ?? engine.config.defaultProvider;
    if (!(PROVIDERS as readonly string[]).includes(providerName)) {
      throw new UsageError(`unknown provider: ${providerName}`, `Providers: ${PROVIDERS.join(', ')}.`);
    }
    try {
      printHosts(io, await up(engine, providerName as ProviderName, { count, computeType: values.type as ComputeType }), values.json);
      return 0;
    } finally {
      engine.ssh.closeAll();
    }
  },
};

export const statusCommand: Command = {
  name: 'status',
  usage: 'pcc status [--json]',
  summary: "list the project's hosts: name, provider, state, address, groups",
  async run(args, io) {
    const { values } = parseArgs({ args, options: common });
    const engine = openEngine(io, values.project);
    const hosts = await reconcile(engine);
    printHosts(io, hosts.map(viewOf).sort((a, b) => a.name.localeCompare(b.name)), values.json);
    return 0;
  },
};

function patternCommand(
  name: 'save' | 'resume',
  summary: string,
  action: typeof save,
): Command {
  return {
    name,
    usage: `pcc ${name} PATTERN [--json]`,
    summary,
    details: 'PATTERN: a host name, a group (vagrant, ec2, cpu, gpu, init), a glob like vagrant*, a comma list, or all.',
    async run(args, io) {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: common });
      const pattern = onePattern(positionals, this.usage);
      const engine = openEngine(io, values.project);
      try {
        printHosts(io, await action(engine, pattern), values.json);
        return 0;
      } finally {
        engine.ssh.closeAll();
      }
    },
  };
}

export const saveCommand = patternCommand('save', 'save hosts (suspend; power off where the provider cannot suspend)', save);
export const resumeCommand = patternCommand('resume', 'start saved or stopped hosts again and refresh their SSH entries', resume);

export const destroyCommand: Command = {
  name: 'destroy',
  usage: 'pcc destroy PATTERN --yes [--json]',
  summary: 'destroy hosts and remove their SSH entries and pinned keys',
  details: 'Without --yes nothing is destroyed. PATTERN as for save; `vagrant` destroys every Vagrant host.',
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...common, yes: { type: 'boolean', default: false } } });
    const pattern = onePattern(positionals, this.usage);
    if (!values.yes) {
      throw new UsageError(`refusing to destroy "${pattern}" without --yes`, `Destroying loses the machines and their data; run: pcc destroy ${pattern} --yes`);
    }
    const engine = openEngine(io, values.project);
    const names = await destroy(engine, pattern);
    if (values.json) printJson(io, { destroyed: names });
    else print(io.stdout, `destroyed: ${names.join(', ')}`);
    return 0;
  },
};

export const sshConfigCommand: Command = {
  name: 'ssh-config',
  usage: 'pcc ssh-config',
  summary: 'print the ~/.ssh/config entries pcc manages for this project',
  async run(args, io) {
    const { values } = parseArgs({ args, options: { project: common.project } });
    const engine = createEngine(projectConfig(io, values.project), { env: io.env });
    await writeSshConfig(engine);
    const { readFileSync, existsSync } = await import('node:fs');
    print(io.stdout, existsSync(engine.sshConfig.pccFile) ? readFileSync(engine.sshConfig.pccFile, 'utf8') : '# no hosts');
    return 0;
  },
};

export const logsCommand: Command = {
  name: 'logs',
  usage: 'pcc logs HOST',
  summary: "print a host's log: everything pcc's work on it printed",
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { project: common.project } });
    const host = onePattern(positionals, this.usage);
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
