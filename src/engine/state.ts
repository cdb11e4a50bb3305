import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PccError } from '../core/errors.js';
import { withFileLock, writeFileAtomic } from '../core/files.js';

export const STATE_SCHEMA_VERSION = 1;

const hostSchema = z.object({
  name: z.string(),
  provider: z.enum(['vagrant', 'ec2']),
  role: z.enum(['init', 'compute']),
  computeType: z.enum(['cpu', 'gpu']),
  state: z.enum(['creating', 'running', 'saved', 'stopped', 'not-created', 'unknown', 'gone']),
  extras: z.record(z.string(), z.string()),
  ssh: z
    .object({ host: z.string(), port: z.number(), user: z.string(), identityFile: z.string() })
    .optional(),
  /** The host's place on the overlay: its fixed index and, once joined, its driver identity and endpoint. */
  overlay: z.object({ index: z.number().int().positive(), peerId: z.string().optional(), endpoint: z.string().optional() }).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** When the host setup (hostSteps) last ran on it; resume runs it again on such hosts. Optional, so version 1 files still read. */
  setupAt: z.string().optional(),
  /** How the last setup went, so a fresh `pcc` and `pcc status` show it: each step's outcome and why steps failed. */
  lastSetup: z
    .object({
      at: z.string(),
      ok: z.boolean(),
      steps: z.record(z.string(), z.enum(['changed', 'unchanged', 'failed', 'skipped'])),
      failures: z.array(z.object({ step: z.string(), message: z.string() })),
    })
    .optional(),
});

const stateSchema = z.object({
  schemaVersion: z.literal(STATE_SCHEMA_VERSION),
  hosts: z.record(z.string(), hostSchema),
});

export type HostRecord = z.infer<typeof hostSchema>;
export type ProjectState = z.infer<typeof stateSchema>;

/**
 * `.pcc/state.json`: what pcc knows of the project's hosts. Writes are atomic and serialised by a
 * lock, so concurrent pcc runs and a kill at any moment leave a whole, valid file. The providers stay
 * the source of truth: the engine reconciles this file with them on every start.
 */
export class StateStore {
  readonly file: string;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'state.json');
  }

  read(): ProjectState {
    if (!existsSync(this.file)) return { schemaVersion: STATE_SCHEMA_VERSION, hosts: {} };
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (error) {
      throw new PccError(`${this.file} is not valid JSON: ${(error as Error).message}`, {
        hint: 'Move it aside; pcc rebuilds it from the providers on the next run.',
      });
    }
    const version = (raw as { schemaVersion?: unknown }).schemaVersion;
    if (version !== STATE_SCHEMA_VERSION) {
      throw new PccError(`${this.file} has schema version ${String(version)}; this pcc reads version ${STATE_SCHEMA_VERSION}`, {
        hint: 'Use the pcc version that wrote it, or move the file aside to rebuild it from the providers.',
      });
    }
    const parsed = stateSchema.safeParse(raw);
    if (!parsed.success) {
      throw new PccError(`${this.file} is malformed: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`, {
        hint: 'Move it aside; pcc rebuilds it from the providers on the next run.',
      });
    }
    return parsed.data;
  }

  /** Applies `change` to the current state under the lock and writes the result atomically. */
  async update<T>(change: (state: ProjectState) => T): Promise<T> {
    return withFileLock(this.file, async () => {
      const state = this.read();
      const result = change(state);
      await writeFileAtomic(this.file, `${JSON.stringify(state, null, 2)}\n`, 0o600);
      return result;
    });
  }
}
