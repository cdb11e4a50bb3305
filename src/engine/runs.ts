import type Docker from 'dockerode';
import { PccError, UsageError } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';
import { registryCredentials } from './registry-credentials.js';
import type { Engine } from './engine.js';
import { initRegistry, requireInit } from './controller/init-clients.js';
import { selectHosts } from './inventory.js';
import { reconcile } from './reconcile.js';
import { INIT_REGISTRY } from './registry.js';
import type { ReplicaRecord, RunRecord } from './run-records.js';
import { SWARM_GPU_KIND } from './setup/daemon-json.js';
import { SWARM_NETWORK } from './setup/swarm.js';
import { LogLines, parseLogLine } from './run-output.js';
import { managerDocker } from './swarm.js';
import type { HostRecord } from './state.js';

/**
 * `pcc run`: a registry image run on the fleet by Docker Swarm, as a service of N replicas that each
 * run once (restart condition none). Swarm places the replicas; pcc only narrows where (constraints),
 * follows the output, and records the run (run-records.ts). A finished run's service is removed.
 *
 * Swarm's own replicated-job mode is not used: Docker 20.10 (Debian's) restarts a job's failed tasks
 * even with restart condition none, so a replica that exits 3 would run again.
 */

export interface RunRequest {
  /** NAME[:TAG] or NAME@sha256:... of an image in init's registry (REGISTRY_HOST/ in front is allowed). */
  image: string;
  command: string[];
  /** Which hosts: a host, a group, a glob (as everywhere in pcc); undefined: every compute host. */
  pattern: string | undefined;
  replicas: number;
  gpus: number;
  /** KEY=VALUE pairs for the containers. */
  env: string[];
}

/** Swarm task states after which a task never runs again. */
const ENDED = new Set(['complete', 'failed', 'rejected', 'shutdown', 'orphaned', 'remove']);
/** docker run's code for "the container never ran". */
const NEVER_RAN = 125;
const POLL_MS = 1000;
/** How long output may still arrive from workers after every task ended. */
const QUIET_MS = 1500;
const LAST_OUTPUT_WAIT_MS = 10_000;

interface SwarmTask {
  ID: string;
  Slot?: number;
  NodeID?: string;
  CreatedAt?: string;
  Status?: { State?: string; Err?: string; Message?: string; ContainerStatus?: { ExitCode?: number } };
}

/** Checks the request, pins the image to its digest, and starts the run's service on the manager. */
export async function startRun(engine: Engine, request: RunRequest): Promise<RunRecord> {
  if (!Number.isInteger(request.replicas) || request.replicas < 1) throw new UsageError(`--replicas ${request.replicas}: expected a whole number of 1 or more`);
  if (!Number.isInteger(request.gpus) || request.gpus < 0) throw new UsageError(`--gpus ${request.gpus}: expected a whole number of 0 or more`);
  const env = request.env.map(parseEnv);
  const hosts = await reconcile(engine);
  const swarm = engine.state.read().swarm;
  const init = requireInit(engine);
  const docker = managerDocker(engine);
  if (!swarm || !docker) throw new PccError("init does not manage a swarm yet", { hint: 'Set init up again with: pcc init' });
  const placed = placementHosts(hosts, request, swarm.clusterId);
  const image = await pinImage(engine, init, request.image);

  const nodes = (await docker.listNodes()) as { ID: string }[];
  const allowed = new Set(placed.map((host) => host.swarmNode?.id));
  const record = await engine.runs.create({
    image: image.name,
    reference: image.reference,
    digest: image.digest,
    command: request.command,
    envNames: env.map(([key]) => key),
    pattern: request.pattern ?? 'compute hosts',
    hosts: placed.map((host) => host.name),
    replicas: request.replicas,
    gpus: request.gpus,
    serviceId: '',
    state: 'running',
    startedAt: new Date().toISOString(),
    tasks: [],
  });
  const registryHost = engine.config.hosts.compute.registryHost;
  const { username, password } = registryCredentials(engine.config);
  try {
    const spec = serviceSpec({ id: record.id, reference: image.reference, request, env, registryHost, allowed: [...allowed], nodes: nodes.map((node) => node.ID), hosts: placed.length });
    const created = (await docker.createService({ username, password: password.reveal(), serveraddress: registryHost }, spec as unknown as Docker.CreateServiceOptions)) as {
      ID?: string;
      id?: string;
    };
    const serviceId = created.ID ?? created.id ?? '';
    const started = await engine.runs.update(record.id, (current) => ({ ...current, serviceId }));
    engine.events.emit({
      type: 'run',
      run: record.id,
      phase: 'started',
      message: `${image.reference} × ${request.replicas} on ${placed.map((host) => host.name).join(', ')}${request.gpus ? ` (${request.gpus} GPU each)` : ''}`,
    });
    const withoutShare = placed.filter((host) => host.lastSetup?.steps['project-share'] === 'failed');
    if (withoutShare.length > 0) {
      engine.events.emit({
        type: 'log',
        level: 'warn',
        message: `${withoutShare.map((host) => host.name).join(', ')}: /project is not mounted there (the project-share step failed), so the run's /project is the host's own folder`,
      });
    }
    return started;
  } catch (error) {
    await engine.runs.update(record.id, (current) => ({ ...current, state: 'failed', endedAt: new Date().toISOString(), exitCode: NEVER_RAN }));
    throw new PccError(`Swarm did not start ${record.id}: ${(error as Error).message}`);
  }
}

/** What a run's service spec is made of. */
export interface ServiceInputs {
  id: string;
  reference: string;
  request: Pick<RunRequest, 'command' | 'replicas' | 'gpus'>;
  env: [string, string][];
  registryHost: string;
  /** The swarm's nodes, and those of the hosts the run may use. */
  nodes: string[];
  allowed: (string | undefined)[];
  hosts: number;
}

/** The Swarm service that is one run (Docker Engine API, ServiceSpec). */
export function serviceSpec(inputs: ServiceInputs): Record<string, unknown> {
  const { id, request } = inputs;
  return {
    Name: id,
    Labels: { 'pcc.run': id },
    TaskTemplate: {
      ContainerSpec: {
        Image: inputs.reference,
        ...(request.command.length > 0 ? { Args: request.command } : {}),
        Hostname: `${id}-{{.Task.Slot}}`,
        Env: [`REGISTRY_HOST=${inputs.registryHost}`, `PCC_JOB=${id}`, 'PCC_REPLICA={{.Task.Slot}}', ...inputs.env.map(([key, value]) => `${key}=${value}`)],
        Mounts: [{ Type: 'bind', Source: '/project', Target: '/project' }],
        Labels: { 'pcc.run': id },
      },
      RestartPolicy: { Condition: 'none' },
      Placement: {
        Constraints: inputs.nodes.filter((node) => !inputs.allowed.includes(node)).map((node) => `node.id!=${node}`),
        // Spread: no host takes more than its share while others could take it.
        MaxReplicas: Math.ceil(request.replicas / inputs.hosts),
      },
      ...(request.gpus > 0 ? { Resources: { Reservations: { GenericResources: [{ DiscreteResourceSpec: { Kind: SWARM_GPU_KIND, Value: request.gpus } }] } } } : {}),
      Networks: [{ Target: SWARM_NETWORK }],
    },
    Mode: { Replicated: { Replicas: request.replicas } },
    // Replicas find each other through DNS (the run's id names them all) without a virtual IP.
    EndpointSpec: { Mode: 'dnsrr' },
  };
}

/** The hosts a run may use: running compute hosts in the swarm that the pattern selects (init only by name). */
export function placementHosts(hosts: HostRecord[], request: Pick<RunRequest, 'pattern' | 'gpus'>, clusterId: string): HostRecord[] {
  const terms = (request.pattern ?? '').split(',').map((term) => term.trim());
  const selected = (request.pattern === undefined ? hosts : selectHosts(hosts, request.pattern)).filter(
    (host) => host.role === 'compute' || terms.includes(host.name),
  );
  const what = request.pattern === undefined ? 'the fleet' : `"${request.pattern}"`;
  if (selected.length === 0) {
    throw new PccError(`${what} has no compute host to run on`, {
      hint: request.pattern === undefined ? 'Bring one up: pcc up vagrant --setup (or pcc up ec2 --setup).' : 'init runs work only when named (--on init); pcc status lists the hosts.',
      exitCode: 2,
    });
  }
  const fitting = request.gpus > 0 ? selected.filter((host) => host.computeType === 'gpu') : selected;
  if (fitting.length === 0) {
    throw new PccError(`--gpus ${request.gpus}: ${what} has no GPU host (${selected.map((host) => host.name).join(', ')} have none)`, {
      hint: 'Bring one up: pcc up ec2 --type gpu --setup; or leave out --gpus.',
      exitCode: 2,
    });
  }
  const ready = fitting.filter((host) => host.state === 'running' && host.swarmNode?.clusterId === clusterId);
  if (ready.length === 0) {
    const why = fitting.map((host) => `${host.name} ${host.state !== 'running' ? `is ${host.state}` : 'has not joined the swarm'}`).join(', ');
    throw new PccError(`no host of ${what} can take work: ${why}`, { hint: 'pcc resume HOST brings a saved host back; pcc setup HOST joins it to the swarm.' });
  }
  return ready;
}

interface PinnedImage {
  name: string;
  reference: string;
  digest: string;
}

/** The image in init's registry, as compute hosts pull it, pinned to its digest so the record says exactly what ran. */
async function pinImage(engine: Engine, init: HostRecord, image: string): Promise<PinnedImage> {
  const registryHost = engine.config.hosts.compute.registryHost;
  let name = image;
  for (const prefix of [`${registryHost}/`, `${INIT_REGISTRY}/`]) if (name.startsWith(prefix)) name = name.slice(prefix.length);
  const at = name.indexOf('@');
  const colon = name.lastIndexOf(':');
  const repository = at >= 0 ? name.slice(0, at) : colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
  const reference = at >= 0 ? name.slice(at + 1) : colon > name.lastIndexOf('/') ? name.slice(colon + 1) : 'latest';
  if (!/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(repository)) {
    throw new UsageError(`${image} is not an image name`, 'Name an image of the project\'s registry, e.g. analysis or analysis:v2 (pcc registry lists them).');
  }
  const registry = initRegistry(engine, init);
  const digest = await registry.digest(repository, reference);
  if (!digest) {
    const known = await registry.catalog();
    throw new PccError(`${repository}${at >= 0 ? '@' : ':'}${reference} is not in init's registry${known.length ? ` (it has: ${known.join(', ')})` : ' (it is empty)'}`, {
      hint: 'Build it from docker/NNN-NAME/Dockerfile with: pcc build NAME (pcc registry lists what is there).',
      exitCode: 2,
    });
  }
  return { name: `${repository}${at >= 0 ? '@' : ':'}${reference}`, reference: `${registryHost}/${repository}@${digest}`, digest };
}

function parseEnv(pair: string): [string, string] {
  const at = pair.indexOf('=');
  const key = at > 0 ? pair.slice(0, at) : '';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new UsageError(`--env ${pair}: expected KEY=VALUE`, 'For example: --env SEED=42');
  return [key, pair.slice(at + 1)];
}

/**
 * Streams a running run's output as `run.output` events until every replica ended, then finishes it
 * (records the outcome, writes its log, removes its service). A finished run is returned as recorded.
 */
export async function followRun(engine: Engine, id: string, signal?: AbortSignal): Promise<RunRecord> {
  const record = engine.runs.read(id);
  const docker = record.state === 'running' ? managerDocker(engine) : undefined;
  if (!docker) return record;
  const names = new TaskNames(engine, docker, record);
  let lastOutput = Date.now();
  let chain = Promise.resolve();
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await docker.getService(record.serviceId).logs({ follow: true, stdout: true, stderr: true, details: true })) as unknown as NodeJS.ReadableStream;
  } catch (error) {
    // Its service is gone (init re-created, removed by hand): finishing records the run as lost.
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    return (await finishRun(engine, docker, record)) ?? engine.runs.read(id);
  }
  const lines = new LogLines((line) => {
    lastOutput = Date.now();
    chain = chain.then(async () => {
      const parsed = parseLogLine(line);
      engine.events.emit({ type: 'run.output', run: id, task: await names.of(parsed.taskId, parsed.nodeId), line: parsed.text });
    });
  });
  stream.on('data', (chunk: Buffer) => lines.push(chunk));
  stream.on('error', () => undefined);
  try {
    let endedAt: number | undefined;
    const seen = new Map<number, string>();
    while (!signal?.aborted) {
      const tasks = await names.refresh().catch((error: { statusCode?: number }) => {
        // Its service went (pcc stop elsewhere): finishing below records what is known.
        if (error.statusCode === 404) return undefined;
        throw error;
      });
      if (!tasks) break;
      for (const replica of replicasOf(tasks, record.replicas, names)) {
        const line = describeReplica(replica);
        if (seen.get(replica.replica) !== line) engine.events.emit({ type: 'run', run: id, phase: 'replica', message: `${id}.${replica.replica} ${line}` });
        seen.set(replica.replica, line);
      }
      if (allEnded(tasks, record.replicas)) {
        endedAt ??= Date.now();
        if (Date.now() - lastOutput > QUIET_MS || Date.now() - endedAt > LAST_OUTPUT_WAIT_MS) break;
      }
      await sleep(POLL_MS, signal);
    }
  } finally {
    (stream as unknown as { destroy?: () => void }).destroy?.();
    lines.flush();
    await chain;
  }
  if (signal?.aborted) return engine.runs.read(id);
  return (await finishRun(engine, docker, engine.runs.read(id))) ?? engine.runs.read(id);
}

/** Records the outcome of every running run whose replicas all ended (or whose service is gone). */
export async function finishRuns(engine: Engine): Promise<RunRecord[]> {
  const running = engine.runs.list().filter((record) => record.state === 'running' && record.serviceId);
  const docker = running.length > 0 ? managerDocker(engine) : undefined;
  if (docker) for (const record of running) await finishRun(engine, docker, record);
  return engine.runs.list();
}

/** Stops a run: its service goes, with its tasks; the record keeps what they printed. */
export async function stopRun(engine: Engine, id: string): Promise<RunRecord> {
  const record = engine.runs.read(id);
  if (record.state !== 'running') throw new PccError(`${id} is not running (it ${record.state === 'stopped' ? 'was stopped' : record.state})`, { exitCode: 2 });
  const docker = managerDocker(engine);
  if (!docker) throw new PccError(`cannot reach init to stop ${id}`, { hint: 'Resume init (pcc resume init), then stop it again.' });
  return (await finishRun(engine, docker, record, { stop: true })) ?? engine.runs.read(id);
}

/**
 * When every replica ended (or `stop`): reads the replicas' outcomes and the whole output, writes the
 * record and the log, then removes the service. Undefined while the run goes on.
 */
async function finishRun(engine: Engine, docker: Docker, record: RunRecord, options: { stop?: boolean } = {}): Promise<RunRecord | undefined> {
  const names = new TaskNames(engine, docker, record);
  let tasks: SwarmTask[];
  try {
    tasks = await names.refresh();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    return engine.runs.update(record.id, (current) => (current.state === 'running' ? { ...current, state: 'lost', endedAt: new Date().toISOString() } : current));
  }
  const ended = allEnded(tasks, record.replicas);
  if (!ended && !options.stop) {
    // Still going: the record shows where its replicas are.
    const replicas = replicasOf(tasks, record.replicas, names);
    await engine.runs.update(record.id, (current) => ({ ...current, tasks: replicas }));
    return undefined;
  }
  const output = await wholeOutput(docker, record, names);
  await writeFileAtomic(engine.runs.logFile(record.id), output, 0o600);
  const replicas = replicasOf(tasks, record.replicas, names);
  const exitCode = ended ? runExitCode(replicas) : undefined;
  const finished = await engine.runs.update(record.id, (current) =>
    current.state !== 'running'
      ? current
      : {
          ...current,
          state: options.stop && !ended ? 'stopped' : exitCode === 0 ? 'succeeded' : 'failed',
          endedAt: new Date().toISOString(),
          tasks: replicas,
          ...(exitCode === undefined ? {} : { exitCode }),
        },
  );
  await docker
    .getService(record.serviceId)
    .remove()
    .catch((error: { statusCode?: number }) => {
      if (error.statusCode !== 404) throw error;
    });
  engine.events.emit({
    type: 'run',
    run: record.id,
    phase: 'finished',
    message: `${finished.state}${finished.exitCode === undefined ? '' : ` (exit ${finished.exitCode})`}: ${finished.tasks.map((replica) => `${replica.replica}@${replica.host ?? '-'}=${replica.exitCode ?? replica.state}`).join(' ')}`,
  });
  return finished;
}

/** The run's exit code: the first replica that failed gives it (125 when it never ran); 0 when all succeeded. */
export function runExitCode(replicas: ReplicaRecord[]): number {
  for (const replica of [...replicas].sort((a, b) => a.replica - b.replica)) {
    if (replica.state === 'complete' && replica.exitCode === 0) continue;
    return replica.exitCode !== null && replica.exitCode !== 0 ? replica.exitCode : NEVER_RAN;
  }
  return 0;
}

function latestPerSlot(tasks: SwarmTask[]): Map<number, SwarmTask> {
  const bySlot = new Map<number, SwarmTask>();
  for (const task of tasks) {
    const slot = task.Slot ?? 0;
    const known = bySlot.get(slot);
    if (!known || (task.CreatedAt ?? '') > (known.CreatedAt ?? '')) bySlot.set(slot, task);
  }
  return bySlot;
}

function allEnded(tasks: SwarmTask[], replicas: number): boolean {
  const bySlot = latestPerSlot(tasks);
  for (let slot = 1; slot <= replicas; slot++) if (!ENDED.has(bySlot.get(slot)?.Status?.State ?? '')) return false;
  return true;
}

function replicasOf(tasks: SwarmTask[], replicas: number, names: TaskNames): ReplicaRecord[] {
  const bySlot = latestPerSlot(tasks);
  return Array.from({ length: replicas }, (_, index) => {
    const task = bySlot.get(index + 1);
    const state = task?.Status?.State ?? 'new';
    const error = task?.Status?.Err;
    return {
      replica: index + 1,
      host: task?.NodeID ? names.hostOf(task.NodeID) : null,
      state,
      exitCode: ENDED.has(state) ? (task?.Status?.ContainerStatus?.ExitCode ?? null) : null,
      ...(error ? { error } : {}),
    };
  });
}

function describeReplica(replica: ReplicaRecord): string {
  const where = replica.host ? ` on ${replica.host}` : '';
  if (replica.exitCode !== null) return `${replica.state}${where} (exit ${replica.exitCode})`;
  return `${replica.state}${where}${replica.error ? `: ${replica.error}` : ''}`;
}

/** Names replicas as job-N.REPLICA@HOST from Swarm's task and node ids. */
class TaskNames {
  readonly #slots = new Map<string, number>();
  readonly #hosts = new Map<string, string>();

  constructor(
    engine: Engine,
    private readonly docker: Docker,
    private readonly record: RunRecord,
  ) {
    for (const host of Object.values(engine.state.read().hosts)) if (host.swarmNode) this.#hosts.set(host.swarmNode.id, host.name);
  }

  async refresh(): Promise<SwarmTask[]> {
    await this.docker.getService(this.record.serviceId).inspect();
    const tasks = (await this.docker.listTasks({ filters: JSON.stringify({ service: [this.record.serviceId] }) } as object)) as SwarmTask[];
    for (const task of tasks) if (task.Slot) this.#slots.set(task.ID, task.Slot);
    return tasks;
  }

  hostOf(nodeId: string): string {
    return this.#hosts.get(nodeId) ?? nodeId.slice(0, 12);
  }

  async of(taskId: string | undefined, nodeId: string | undefined): Promise<string> {
    if (taskId && !this.#slots.has(taskId)) await this.refresh().catch(() => undefined);
    const slot = taskId ? this.#slots.get(taskId) : undefined;
    return `${this.record.id}.${slot ?? '?'}${nodeId ? `@${this.hostOf(nodeId)}` : ''}`;
  }
}

/** Everything the run printed, each line prefixed by its replica, in time order (Swarm keeps it until the service goes). */
async function wholeOutput(docker: Docker, record: RunRecord, names: TaskNames): Promise<string> {
  const raw = (await docker.getService(record.serviceId).logs({ follow: false, stdout: true, stderr: true, details: true, timestamps: true })) as unknown;
  const lines: string[] = [];
  const splitter = new LogLines((line) => lines.push(line));
  splitter.push(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
  splitter.flush();
  const parsed = lines.map(parseLogLine).sort((a, b) => (a.timestamp ?? '').localeCompare(b.timestamp ?? ''));
  const out: string[] = [];
  for (const line of parsed) out.push(`${await names.of(line.taskId, line.nodeId)} | ${line.text}`);
  return out.length ? `${out.join('\n')}\n` : '';
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });
}
