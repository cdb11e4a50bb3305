import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError } from '../../core/errors.js';
import type { Engine } from '../../engine/engine.js';
import { describeEvent } from '../../engine/events.js';
import type { RunRecord } from '../../engine/run-records.js';
import { finishRuns, followRun, startRun, stopRun } from '../../engine/runs.js';
import { age } from '../../engine/units.js';
import { common, type Command } from '../command.js';
import { openEngine } from '../context.js';
import { print, printJson, printTable, type CliIo } from '../io.js';

/** Runs work with the engine open, printing the run's output lines on stdout; closes SSH either way. */
async function withRunEngine<T>(io: CliIo, project: string | undefined, json: boolean, work: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = openEngine(io, project);
  const unsubscribe = engine.events.subscribe((event) => {
    if (event.type === 'run.output' && !json) print(io.stdout, describeEvent(event));
  });
  try {
    return await work(engine);
  } finally {
    unsubscribe();
    engine.ssh.closeAll();
  }
}

function wholeNumber(option: string, value: string): number {
  if (!/^[0-9]+$/.test(value)) throw new UsageError(`--${option} ${value}: expected a whole number`);
  return Number(value);
}

export const runCommand: Command = {
  name: 'run',
  usage: 'pcc run IMAGE [--on PATTERN] [--replicas N] [--gpus N] [--env K=V]... [--detach] [--json] [-- COMMAND...]',
  summary: "run a registry image on the fleet (Docker Swarm) and record the run; exits with the run's exit code",
  details:
    'IMAGE is an image of init\'s registry (NAME or NAME:TAG; pcc registry lists them); it runs pinned to its\n' +
    'digest, with /project mounted and $REGISTRY_HOST, $PCC_JOB and $PCC_REPLICA set, on the swarm network\n' +
    'pcc-jobs, where the replicas reach each other by the run id (job-N).\n' +
    '--on: a host, a group (cpu, gpu, vagrant, ec2 ...) or a glob; default: every compute host (init only\n' +
    'when named). --replicas: that many containers, spread over the hosts; each runs once. --gpus: GPUs\n' +
    'per replica, on GPU hosts. Output is streamed, each line prefixed by its replica (job-N.R@HOST).\n' +
    'The exit code is the first failed replica\'s (125: it never ran). Ctrl-C leaves the run going:\n' +
    'pcc logs JOB follows it again, pcc stop JOB stops it. --detach: print the run id and return.\n' +
    'Each run is recorded in .pcc/runs/ (pcc jobs).',
  async run(args, io) {
    const dash = args.indexOf('--');
    const own = dash >= 0 ? args.slice(0, dash) : args;
    const command = dash >= 0 ? args.slice(dash + 1) : [];
    const { values, positionals } = parseArgs({
      args: own,
      allowPositionals: true,
      options: {
        ...common,
        on: { type: 'string' },
        replicas: { type: 'string', default: '1' },
        gpus: { type: 'string', default: '0' },
        env: { type: 'string', multiple: true, default: [] },
        detach: { type: 'boolean', default: false },
      },
    });
    const [image, ...extra] = positionals;
    if (!image) throw new UsageError('expected an image', `Usage: ${this.usage}`);
    if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(' ')}`, 'Put the command after --, e.g. pcc run analysis -- python run.py --seed 3');
    const request = {
      image,
      command,
      pattern: values.on,
      replicas: wholeNumber('replicas', values.replicas),
      gpus: wholeNumber('gpus', values.gpus),
      env: values.env,
    };
    return withRunEngine(io, values.project, values.json, async (engine) => {
      const started = await startRun(engine, request);
      if (values.detach) {
        if (values.json) printJson(io, started);
        else print(io.stdout, started.id);
        return 0;
      }
      // Ctrl-C stops following, not the run.
      const abort = new AbortController();
      const onInterrupt = () => {
        abort.abort();
        print(io.stderr, `\n${started.id} goes on: pcc logs ${started.id} follows it, pcc stop ${started.id} stops it`);
      };
      process.once('SIGINT', onInterrupt);
      try {
        const finished = await followRun(engine, started.id, abort.signal);
        if (values.json) printJson(io, finished);
        if (abort.signal.aborted) return 130;
        return finished.exitCode ?? 1;
      } finally {
        process.off('SIGINT', onInterrupt);
      }
    });
  },
};

export function printRuns(io: CliIo, runs: RunRecord[]): void {
  if (runs.length === 0) return print(io.stdout, 'no runs yet — start one with: pcc run IMAGE');
  const now = Date.now();
  const rows = [
    ['ID', 'STATE', 'IMAGE', 'HOSTS', 'AGE', 'EXIT'],
    ...runs.map((run) => [
      run.id,
      run.state,
      run.image,
      [...new Set(run.tasks.map((task) => task.host).filter((host): host is string => host !== null))].join(',') || run.hosts.join(','),
      age((now - Date.parse(run.startedAt)) / 1000),
      run.tasks.length > 0 && run.state !== 'running' ? run.tasks.map((task) => task.exitCode ?? '-').join(',') : '-',
    ]),
  ];
  printTable(io.stdout, rows);
}

export const jobsCommand: Command = {
  name: 'jobs',
  usage: 'pcc jobs [--json]',
  summary: 'list the runs (pcc run), newest first, with their state, hosts and exit codes',
  async run(args, io) {
    const { values } = parseArgs({ args, options: common });
    return withRunEngine(io, values.project, values.json, async (engine) => {
      const runs = await finishRuns(engine);
      if (values.json) printJson(io, runs);
      else printRuns(io, runs);
      return 0;
    });
  },
};

export const stopCommand: Command = {
  name: 'stop',
  usage: 'pcc stop JOB [--json]',
  summary: 'stop a run: its containers go, its record and output stay',
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: common });
    if (positionals.length !== 1 || !positionals[0]) throw new UsageError('expected one run id', `Usage: ${this.usage}`);
    const id = positionals[0];
    return withRunEngine(io, values.project, values.json, async (engine) => {
      const stopped = await stopRun(engine, id);
      if (values.json) printJson(io, stopped);
      else print(io.stdout, `${stopped.id} ${stopped.state}`);
      return 0;
    });
  },
};

/** `pcc logs job-N`: a run's output; a running one is followed live until it ends. */
export async function printRunLogs(io: CliIo, project: string | undefined, id: string): Promise<number> {
  return withRunEngine(io, project, false, async (engine) => {
    if (engine.runs.read(id).state === 'running') {
      const after = await followRun(engine, id);
      if (after.state === 'running') print(io.stderr, `${id} is running, but init (its swarm's manager) is not: pcc resume init, then pcc logs ${id}`);
      return 0;
    }
    const file = engine.runs.logFile(id);
    if (existsSync(file)) io.stdout.write(readFileSync(file, 'utf8'));
    else print(io.stderr, `${id} printed nothing that pcc could keep`);
    return 0;
  });
}
