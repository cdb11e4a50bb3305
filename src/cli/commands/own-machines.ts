import { parseArgs } from 'node:util';
import { UsageError } from '../../core/errors.js';
import { addMachine, parseTarget, removeMachine } from '../../engine/own-machines.js';
import { common, type Command } from '../command.js';
import { openEngine } from '../context.js';
import { print, printJson } from '../io.js';
import { promptPassword, readAllStdin } from '../password.js';
import { computeTypeOf, hostsCommand } from './hosts.js';

export const addCommand: Command = {
  name: 'add',
  usage: 'pcc add ssh USER@HOST[:PORT] [--name NAME] [--identity FILE] [--type cpu|gpu] [--password-stdin] [--json]',
  summary: 'add a machine you already have (a lab server, a workstation) as a host, over SSH',
  details:
    'pcc pins its host key, logs in with --identity FILE, your ssh-agent or ~/.ssh keys — or asks for the\n' +
    'password once on a terminal (--password-stdin reads it from standard input; it is never kept) —, checks\n' +
    'that sudo needs no password and installs its own key. NAME defaults to the host name\'s first label.',
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...common,
        name: { type: 'string' },
        identity: { type: 'string' },
        type: { type: 'string', default: 'cpu' },
        'password-stdin': { type: 'boolean', default: false },
      },
    });
    const [kind, target, ...rest] = positionals;
    if (kind !== 'ssh' || !target || rest.length > 0) throw new UsageError('expected: pcc add ssh USER@HOST[:PORT]', `Usage: ${this.usage}`);
    const computeType = computeTypeOf(values.type);
    const { user, host } = parseTarget(target);
    const stdin = process.stdin;
    const password = values['password-stdin']
      ? () => readAllStdin(stdin)
      : stdin.isTTY
        ? () => promptPassword(`${user}@${host}'s password: `, stdin, io.stderr)
        : undefined;
    return hostsCommand(io, values, async (engine) => [
      await addMachine(engine, {
        target,
        computeType,
        ...(values.name !== undefined ? { name: values.name } : {}),
        ...(values.identity !== undefined ? { identityFile: values.identity } : {}),
        ...(password ? { password } : {}),
      }),
    ]);
  },
};

export const removeCommand: Command = {
  name: 'remove',
  usage: 'pcc remove NAME [--keep-setup | --yes] [--forget-only] [--json]',
  summary: "forget one of your own machines (pcc add) and take pcc's setup and key off it",
  details:
    "The machine keeps running. pcc takes off its setup (Docker's volume with its images and containers,\n" +
    'the overlay, registry access, /project, its timers) and its key: --yes says to, --keep-setup keeps\n' +
    'Docker and its volume. --forget-only: forget a machine that does not answer, without touching it.',
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...common,
        'keep-setup': { type: 'boolean', default: false },
        yes: { type: 'boolean', default: false },
        'forget-only': { type: 'boolean', default: false },
      },
    });
    const [name, ...rest] = positionals;
    if (!name || rest.length > 0) throw new UsageError('expected one host name', `Usage: ${this.usage}`);
    const engine = openEngine(io, values.project);
    try {
      const report = await removeMachine(engine, name, { keepSetup: values['keep-setup'], yes: values.yes, forgetOnly: values['forget-only'] });
      if (values.json) {
        printJson(io, report);
        return 0;
      }
      print(io.stdout, `removed ${name}${report.takenOff.length ? `; took off: ${report.takenOff.join(', ')}` : ''}`);
      for (const left of report.left) print(io.stdout, `  left on it: ${left}`);
      return 0;
    } finally {
      engine.ssh.closeAll();
    }
  },
};
