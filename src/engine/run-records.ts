import { existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PccError } from '../core/errors.js';
import { withFileLock, writeFileAtomic } from '../core/files.js';

/**
 * Run records: one `.pcc/runs/job-N.json` per `pcc run`, kept to reproduce results (what ran, where,
 * how it ended) and `job-N.log` beside it with everything the run printed, written when it ends.
 */

export const RUN_ID = /^job-[1-9][0-9]*$/;

const replicaSchema = z.object({
  replica: z.number().int().positive(),
  /** The host the task ran on; null when Swarm never placed it. */
  host: z.string().nullable(),
  /** Swarm's task state: pending, running, complete, failed, rejected, shutdown ... */
  state: z.string(),
  exitCode: z.number().int().nullable(),
  /** Swarm's reason, when the task did not run to its end (no suitable node, pull failed ...). */
  error: z.string().optional(),
});

const runSchema = z.object({
  id: z.string().regex(RUN_ID),
  /** The image as asked for (name:tag) and as run: pinned to its digest in the registry. */
  image: z.string(),
  reference: z.string(),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  command: z.array(z.string()),
  /** The names of the variables set with --env (their values may be secrets and are not recorded). */
  envNames: z.array(z.string()),
  pattern: z.string(),
  /** The hosts the run could be placed on. */
  hosts: z.array(z.string()),
  replicas: z.number().int().positive(),
  gpus: z.number().int().nonnegative(),
  serviceId: z.string(),
  state: z.enum(['running', 'succeeded', 'failed', 'stopped', 'lost']),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  /** The run's exit code: the first failed replica's, 125 for a replica that never ran, 0 when all succeeded. */
  exitCode: z.number().int().optional(),
  tasks: z.array(replicaSchema),
});

export type RunRecord = z.infer<typeof runSchema>;
export type ReplicaRecord = z.infer<typeof replicaSchema>;
export type RunState = RunRecord['state'];

export class RunRecords {
  constructor(readonly dir: string) {}

  /** Records a new run under the next free id (job-1, job-2 ...); two pcc processes never get the same one. */
  async create(fields: Omit<RunRecord, 'id'>): Promise<RunRecord> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (let number = this.#highest() + 1; ; number++) {
      const id = `job-${number}`;
      try {
        // Taking the name exclusively is what reserves the id.
        closeSync(openSync(this.file(id), 'wx', 0o600));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw error;
      }
      const record = { id, ...fields };
      await writeFileAtomic(this.file(id), `${JSON.stringify(record, null, 2)}\n`, 0o600);
      return record;
    }
  }

  /** Every run, newest first. Files that do not read as records are skipped. */
  list(): RunRecord[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((name) => name.endsWith('.json') && RUN_ID.test(name.slice(0, -'.json'.length)))
      .flatMap((name) => {
        const parsed = runSchema.safeParse(readJson(path.join(this.dir, name)));
        return parsed.success ? [parsed.data] : [];
      })
      .sort((a, b) => idNumber(b.id) - idNumber(a.id));
  }

  read(id: string): RunRecord {
    if (!RUN_ID.test(id)) throw new PccError(`not a run id: ${id}`, { hint: 'Runs are named job-1, job-2 ...; pcc jobs lists them.', exitCode: 2 });
    const file = this.file(id);
    if (!existsSync(file)) throw new PccError(`no run ${id}`, { hint: 'pcc jobs lists the runs.', exitCode: 2 });
    const parsed = runSchema.safeParse(readJson(file));
    if (!parsed.success) throw new PccError(`${file} is not a run record pcc can read: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.data;
  }

  /** Changes a record under a lock (a run's follower and `pcc jobs` may finish it at once); returns the result. */
  async update(id: string, change: (record: RunRecord) => RunRecord): Promise<RunRecord> {
    return withFileLock(this.file(id), async () => {
      const next = change(this.read(id));
      await writeFileAtomic(this.file(id), `${JSON.stringify(next, null, 2)}\n`, 0o600);
      return next;
    });
  }

  file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  logFile(id: string): string {
    return path.join(this.dir, `${id}.log`);
  }

  #highest(): number {
    if (!existsSync(this.dir)) return 0;
    return Math.max(0, ...readdirSync(this.dir).map((name) => /^job-([0-9]+)\.json$/.exec(name)).map((match) => (match ? Number(match[1]) : 0)));
  }
}

function idNumber(id: string): number {
  return Number(id.slice('job-'.length));
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}
