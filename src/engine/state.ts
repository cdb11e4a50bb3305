import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { PccError } from '../core/errors.js';
import { withFileLock, writeFileAtomic } from '../core/files.js';

export const STATE_SCHEMA_VERSION = 1;

/**
 * What may stand in a host's fields. They end up in ~/.ssh/config, WireGuard peer files and shell
 * commands, so a value from a tampered state file or an EC2 tag must not be able to add an option
 * (a line break and `ProxyCommand`) or split a line (a space): each field takes only what it needs.
 */
export const HOST_FIELDS = {
  /** A host name: init, vagrant1, an EC2 instance id. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'expected a host name of letters, digits, . _ and - (at most 63)'),
  /** Where pcc reaches a host: a DNS name or an IP address. */
  address: z.string().refine((value) => isIP(value) !== 0 || /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(value), 'expected a host name or an IP address'),
  user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/i, 'expected a login name of letters, digits, _ and - (at most 32)'),
  /** An absolute path with no quote or control character (pcc writes it in double quotes). */
  identityFile: z.string().regex(/^\/[^"\x00-\x1f\x7f]*$/, 'expected an absolute path without quotes or control characters'),
  /** A provider's extra (instance type, instance id): it becomes a group and an SSH alias. */
  extra: z.string().regex(/^[A-Za-z0-9._:-]{0,64}$/, 'expected letters, digits, . _ : and - (at most 64)'),
} as const;

/**
 * Checks the fields of a host that reach ssh config, peer files and commands; a bad one is an error
 * that names the host, the field and the value as it is (escapes shown), before anything is written.
 */
export function checkHostFields(
  host: { name: string; ssh?: { host: string; user: string; identityFile: string } | undefined; extras: Record<string, string>; privateAddress?: string | undefined },
  origin: string,
): void {
  const checks: [string, z.ZodType<unknown, string>, string][] = [
    ['name', HOST_FIELDS.name, host.name],
    ...(host.privateAddress === undefined ? [] : [['private address', HOST_FIELDS.address, host.privateAddress] as [string, z.ZodType<unknown, string>, string]]),
    ...Object.entries(host.extras).map(([key, value]): [string, z.ZodType<unknown, string>, string] => [`extras.${key}`, HOST_FIELDS.extra, value]),
    ...(host.ssh
      ? ([
          ['address', HOST_FIELDS.address, host.ssh.host],
          ['user', HOST_FIELDS.user, host.ssh.user],
          ['identity file', HOST_FIELDS.identityFile, host.ssh.identityFile],
        ] as [string, z.ZodType<unknown, string>, string][])
      : []),
  ];
  for (const [field, schema, value] of checks) {
    const result = schema.safeParse(value);
    if (!result.success) {
      throw new PccError(`${origin}: host ${JSON.stringify(host.name)}: ${field} ${JSON.stringify(value)}: ${result.error.issues[0]?.message}`, {
        hint: 'pcc writes nothing for it. Fix or remove the value where it came from (state.json, or the instance\'s tags).',
      });
    }
  }
}

/** Docker Swarm's ids (nodes, clusters): lower-case letters and digits. */
const SWARM_ID = z.string().regex(/^[a-z0-9]{10,64}$/, 'expected a swarm id');

const hostSchema = z.object({
  name: HOST_FIELDS.name,
  provider: z.enum(['vagrant', 'ec2', 'ssh']),
  role: z.enum(['init', 'compute']),
  computeType: z.enum(['cpu', 'gpu']),
  state: z.enum(['creating', 'running', 'saved', 'stopped', 'interrupted', 'unreachable', 'not-created', 'unknown', 'gone']),
  extras: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,31}$/, 'expected a plain key'), HOST_FIELDS.extra),
  ssh: z
    .object({ host: HOST_FIELDS.address, port: z.number().int().min(1).max(65535), user: HOST_FIELDS.user, identityFile: HOST_FIELDS.identityFile })
    .optional(),
  /** Its address on its provider's private network (EC2: the VPC address), where hosts of the same provider reach it. */
  privateAddress: HOST_FIELDS.address.optional(),
  /** The host's place on the overlay: its fixed index and, once joined, its driver identity and endpoint. */
  overlay: z
    .object({
      index: z.number().int().positive(),
      peerId: z.string().regex(/^[A-Za-z0-9+/=:._()-]{1,80}$/, 'expected a WireGuard key or a weave peer name').optional(),
      endpoint: HOST_FIELDS.address.optional(),
    })
    .optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** What its provider bills it for (EC2), as last listed; `cost.ts` prices it. */
  billing: z
    .object({
      instanceType: HOST_FIELDS.extra,
      spot: z.boolean(),
      runningSince: z.string().optional(),
      savedAt: z.string().optional(),
      storage: z.array(z.object({ kind: z.enum(['volume', 'snapshot']), gb: z.number().nonnegative() })),
    })
    .optional(),
  /** Docker keeps the storage the machine had (pcc setup --keep-docker-storage): no btrfs volume, any driver. */
  keepDockerStorage: z.boolean().optional(),
  /** Brought up with --relaunch: when EC2 interrupts it, pcc brings up a replacement of the same type. */
  relaunch: z.boolean().optional(),
  /** The host pcc brought up in its place after an interruption (--relaunch). */
  replacedBy: HOST_FIELDS.name.optional(),
  /** Why it powered itself off (idle stop) while pcc was not looking, and when; cleared when it runs again. */
  selfStop: z.object({ reason: z.string().regex(/^[a-z0-9 ]{1,40}$/), at: z.string() }).optional(),
  /** Its node in pcc's Docker Swarm (the swarm step): the node id and the swarm it joined. */
  swarmNode: z.object({ id: SWARM_ID, clusterId: SWARM_ID }).optional(),
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
  /** pcc's Docker Swarm as init, its manager, last reported it: what compute hosts join. */
  swarm: z
    .object({
      clusterId: SWARM_ID,
      managerAddress: HOST_FIELDS.address,
      workerToken: z.string().regex(/^SWMTKN-1-[a-z0-9]+-[a-z0-9]+$/, 'expected a swarm join token'),
    })
    .optional(),
});

export type HostRecord = z.infer<typeof hostSchema>;
export type ProjectState = z.infer<typeof stateSchema>;
export type SwarmRecord = NonNullable<ProjectState['swarm']>;

/**
 * `state.json` in the private state: what pcc knows of the project's hosts. Writes are atomic and serialised by a
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
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new PccError(`${this.file} holds ${raw === null ? 'null' : Array.isArray(raw) ? 'a list' : `a ${typeof raw}`}, not pcc's state`, {
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
      const issue = parsed.error.issues[0];
      throw new PccError(`${this.file} is malformed: ${issue?.path.join('.')}: ${issue?.message}`, {
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
