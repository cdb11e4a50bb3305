import { parseArgs } from 'node:util';
import { describeError, PccError, UsageError } from '../core/errors.js';
import type { Command } from './command.js';
import { buildCommand, initCommand, registryCommand } from './commands/controller.js';
import { costCommand } from './commands/cost.js';
import { doctorCommand } from './commands/doctor.js';
import { imagesCommand } from './commands/images.js';
import {
  destroyCommand,
  forgetKeyCommand,
  logsCommand,
  resumeCommand,
  saveCommand,
  sshConfigCommand,
  statusCommand,
  upCommand,
} from './commands/hosts.js';
import { addCommand, removeCommand } from './commands/own-machines.js';
import { peersCommand } from './commands/peers.js';
import { jobsCommand, runCommand, stopCommand } from './commands/runs.js';
import { settingsCommand } from './commands/settings.js';
import { setupCommand } from './commands/setup.js';
import { projectConfig } from './context.js';
import { print, type CliIo } from './io.js';
import { pccVersion } from './version.js';

const COMMANDS: Command[] = [
  upCommand,
  statusCommand,
  saveCommand,
  resumeCommand,
  destroyCommand,
  addCommand,
  removeCommand,
  imagesCommand,
  costCommand,
  setupCommand,
  initCommand,
  buildCommand,
  registryCommand,
  runCommand,
  jobsCommand,
  stopCommand,
  peersCommand,
  sshConfigCommand,
  logsCommand,
  forgetKeyCommand,
  doctorCommand,
  settingsCommand,
];

export function usage(): string {
  const width = Math.max('pcc help [COMMAND]'.length + 4, ...COMMANDS.map((command) => command.usage.length));
  return [
    'pcc — a personal compute cloud for scientific computing',
    '',
    'Usage:',
    `  ${'pcc [--project DIR]'.padEnd(width)}  open the terminal UI (needs a terminal; ? lists its keys)`,
    ...COMMANDS.map((command) => `  ${command.usage.padEnd(width)}  ${command.summary}`),
    `  ${'pcc help [COMMAND]'.padEnd(width)}  show this help, or one command's`,
    '',
    'Options:',
    `  ${'--project DIR'.padEnd(width)}  the project folder (default: the nearest folder holding`,
    `  ${''.padEnd(width)}  config/project.env; PCC_PROJECT does the same)`,
    `  ${'-h, --help'.padEnd(width)}  show help`,
    `  ${'-V, --version'.padEnd(width)}  show the version`,
  ].join('\n');
}

/** Runs pcc with the given arguments and returns the exit code; never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    const [first, ...rest] = argv;
    if (first === undefined || first.startsWith('--project')) return await openTerminalUi(argv, io);
    if (first === '-V' || first === '--version') {
      print(io.stdout, pccVersion());
      return 0;
    }
    if (first === '-h' || first === '--help') {
      print(io.stdout, usage());
      return 0;
    }
    if (first === 'help') return help(rest[0], io);
    const command = COMMANDS.find((candidate) => candidate.name === first);
    if (!command) {
      print(io.stderr, `pcc: unknown command: ${first}\n\n${usage()}`);
      return 2;
    }
    if (rest.includes('--help') || rest.includes('-h')) return help(command.name, io);
    return await command.run(rest, io);
  } catch (error) {
    return reportError(error, io);
  }
}

function help(name: string | undefined, io: CliIo): number {
  if (name === undefined) {
    print(io.stdout, usage());
    return 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) throw new UsageError(`unknown command: ${name}`, "Run 'pcc --help' for the list of commands.");
  print(io.stdout, [`Usage: ${command.usage}`, '', `${command.summary}.`, ...(command.details ? ['', command.details] : [])].join('\n'));
  return 0;
}

async function openTerminalUi(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { project: { type: 'string' } } });
  if (!io.interactive) {
    print(io.stderr, "pcc's terminal UI needs a terminal. Without one, use the headless commands:\n");
    print(io.stderr, usage());
    return 2;
  }
  const config = projectConfig(io, values.project);
  // React picks its build when first loaded: the production one, unless told otherwise. Loaded only
  // here, so headless commands never load ink and react.
  process.env.NODE_ENV ??= 'production';
  const { openTerminalUi: open } = await import('../ui/open-ui.js');
  return open(config, io.env);
}

function reportError(error: unknown, io: CliIo): number {
  // parseArgs reports unknown or malformed options with its own error codes.
  const code = (error as { code?: string }).code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
    print(io.stderr, `pcc: ${(error as Error).message}\nRun 'pcc help' for usage.`);
    return 2;
  }
  print(io.stderr, `pcc: ${describeError(error)}`);
  return error instanceof PccError ? error.exitCode : 1;
}
