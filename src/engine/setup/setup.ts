import PQueue from 'p-queue';
import type { Config } from '../../core/config/load.js';
import type { Engine } from '../engine.js';
import { PccError } from '../../core/errors.js';
import type { SetupPhase } from '../events.js';
import { selectHosts } from '../inventory.js';
import { overlayMembers } from '../overlay/members.js';
import { overlayDriver } from '../overlay/overlay.js';
import { reconcile } from '../reconcile.js';
import { sshTarget } from '../ssh/pool.js';
import type { SshTarget } from '../ssh/pool.js';
import type { HostRecord } from '../state.js';
import { projectExport } from '../controller/project-export.js';
import { cuda } from './cuda.js';
import { dockerEngine } from './docker-engine.js';
import { dockerStorage } from './docker-storage.js';
import { idleStop } from './idle-stop.js';
import { spotWatch } from './spot-watch.js';
import { projectShare } from './project-share.js';
import { registryAccess } from './registry-access.js';
import { swarm } from './swarm.js';
import { parseFacts, stepCall, stepScript, type Facts, type SetupStep, type StepContext } from './step.js';

/**
 * The same setup on every host, in this order. The overlay needs Docker (its containers' network);
 * Swarm needs the overlay (it listens on it); the share comes last: it needs the controller over the
 * overlay, and a host that cannot mount it still gets everything else. init gets the steps that apply
 * to it (it serves the share and manages the swarm); its own services follow in `pcc init`.
 */
export function hostSteps(config: Config, role: HostRecord['role'] = 'compute'): SetupStep[] {
  const overlay = overlayDriver(config).step;
  return role === 'init'
    ? [dockerStorage, dockerEngine, overlay, registryAccess, swarm]
    : [dockerStorage, dockerEngine, overlay, registryAccess, cuda, idleStop, spotWatch, swarm, projectShare];
}

/** How many steps one setup run has per role; init's run continues with its services. */
export function setupStepTotals(config: Config, initServices: number): Record<HostRecord['role'], number> {
  return { init: hostSteps(config, 'init').length + initServices, compute: hostSteps(config, 'compute').length };
}

export type StepOutcome = Exclude<SetupPhase, 'started'>;

export interface StepResult {
  step: string;
  outcome: StepOutcome;
  changes: string[];
  message?: string;
  durationMs: number;
}

export interface HostSetupResult {
  host: string;
  ok: boolean;
  steps: StepResult[];
}

export interface SetupSummary {
  ok: boolean;
  hosts: HostSetupResult[];
}

export interface SetupOptions {
  /** Only inspect and report what would change. */
  dryRun?: boolean;
  /** Hosts set up at once. */
  concurrency?: number;
  /** These steps instead of the role's host steps (init's services). */
  steps?: SetupStep[];
  /** Only the role's host steps with these ids (`pcc setup --steps`). */
  only?: string[];
}

/** Runs setup on every host the pattern selects, after reconciling state with the providers. */
export async function setup(engine: Engine, pattern: string, options: SetupOptions & { keepDockerStorage?: boolean } = {}): Promise<SetupSummary> {
  const hosts = selectHosts(await reconcile(engine), pattern);
  if (options.keepDockerStorage && !options.dryRun) {
    // Recorded on the host: its later setups keep Docker's own storage too.
    await engine.state.update((state) => {
      for (const host of hosts) {
        const record = state.hosts[host.name];
        if (record) record.keepDockerStorage = true;
      }
    });
  }
  return setupHosts(engine, hosts, `${options.dryRun ? 'plan setup of' : 'set up'} ${pattern}`, options);
}

/** Sets up these hosts concurrently (bounded); one host failing never stops another. */
export async function setupHosts(engine: Engine, hosts: HostRecord[], title: string, options: SetupOptions = {}): Promise<SetupSummary> {
  engine.events.emit({ type: 'task', task: 'setup', phase: 'started', title });
  const stepsOf = (host: HostRecord) =>
    options.steps ?? hostSteps(engine.config, host.role).filter((step) => options.only?.includes(step.id) ?? true);
  if (!options.dryRun) {
    for (const step of new Set(hosts.flatMap(stepsOf))) await step.prepare?.(engine, hosts.filter((host) => stepsOf(host).includes(step)));
    if (hosts.some((host) => host.role === 'compute' && stepsOf(host).includes(projectShare))) await admitToShare(engine);
  }
  const queue = new PQueue({ concurrency: options.concurrency ?? 8 });
  const setUp = (host: HostRecord) => setupHost(engine, engine.state.read().hosts[host.name] ?? host, stepsOf(host), options);
  // init goes first when compute hosts follow: they join the swarm it starts.
  const initFirst = hosts.find((host) => host.role === 'init' && hosts.some((other) => other.role === 'compute' && stepsOf(other).includes(swarm)));
  const first = initFirst ? [await setUp(initFirst)] : [];
  const results = [
    ...first,
    ...(await Promise.all(hosts.filter((host) => host !== initFirst).map((host) => queue.add(() => setUp(host))))),
  ];
  const summary = { ok: results.every((result) => result.ok), hosts: results };
  if (!options.dryRun) await recordSetup(engine, results, options.steps === undefined && options.only === undefined);
  engine.events.emit({
    type: 'task',
    task: 'setup',
    phase: summary.ok ? 'succeeded' : 'failed',
    title,
    ...(summary.ok ? {} : { error: failureLines(summary).join('; ') }),
  });
  return summary;
}

/**
 * The share admits only the hosts' own overlay addresses (unless NFS_CLIENTS says otherwise), so
 * init's export learns of new hosts before they mount it. Nothing to do while init is not running:
 * the hosts' share step then says so.
 */
async function admitToShare(engine: Engine): Promise<void> {
  const init = engine.state.read().hosts.init;
  if (init?.state !== 'running' || !init.ssh) return;
  const result = await setupHost(engine, init, [projectExport], {});
  await recordSetup(engine, [result], false);
}

/** The swarm record steps see: what init reported, or `no-init` where there is no init. */
export function swarmOf(engine: Engine): ReturnType<NonNullable<StepContext['swarm']>> {
  const state = engine.state.read();
  return state.hosts.init ? state.swarm : 'no-init';
}

/** "host: step: reason" for every failed step. */
export function failureLines(summary: SetupSummary): string[] {
  return summary.hosts.flatMap((host) =>
    host.steps.filter((step) => step.outcome === 'failed').map((step) => `${host.host}: ${step.step}: ${step.message}`),
  );
}

async function setupHost(engine: Engine, host: HostRecord, steps: SetupStep[], options: SetupOptions): Promise<HostSetupResult> {
  const results: StepResult[] = [];
  const report = (step: SetupStep, outcome: StepOutcome, started: number, changes: string[] = [], message?: string) => {
    results.push({ step: step.id, outcome, changes, ...(message ? { message } : {}), durationMs: Date.now() - started });
    engine.events.emit({ type: 'setup', host: host.name, step: step.id, phase: outcome, changes, ...(message ? { message } : {}) });
    engine.logs.append(host.name, `setup ${step.id}: ${outcome}${message ? `: ${message}` : ''}${changes.length ? ` (${changes.join('; ')})` : ''}`);
  };

  const unreachable =
    host.state !== 'running' ? `${host.name} is ${host.state}; resume it first (pcc resume ${host.name})`
    : !host.ssh ? `${host.name} has no known SSH address; pcc status looks it up again, or pcc resume ${host.name}`
    : undefined;
  if (unreachable) {
    const now = Date.now();
    for (const step of steps) report(step, step === steps[0] ? 'failed' : 'skipped', now, [], step === steps[0] ? unreachable : undefined);
    return { host: host.name, ok: false, steps: results };
  }

  const context: StepContext = { host, config: engine.config, settings: engine.config.hosts[host.role], members: () => overlayMembers(engine), swarm: () => swarmOf(engine) };
  const target = sshTarget(host);
  let facts: Record<string, Facts> | undefined;
  let failed = false;
  for (const [index, step] of steps.entries()) {
    const started = Date.now();
    if (failed) {
      report(step, 'skipped', started, [], 'an earlier step failed');
      continue;
    }
    engine.events.emit({ type: 'setup', host: host.name, step: step.id, phase: 'started' });
    try {
      // One round trip reads every step's facts; after a step changed the host, the rest are read again.
      facts ??= await inspectSteps(engine, target, steps.slice(index), context);
      const plan = step.plan(facts[step.id] ?? {}, context);
      if (plan.kind === 'unchanged') {
        await step.settled?.(engine, host, facts[step.id] ?? {});
        report(step, 'unchanged', started, [], plan.note);
      } else if (plan.kind === 'refuse') {
        failed = true;
        report(step, 'failed', started, [], plan.reason);
      } else if (options.dryRun) {
        report(step, 'planned', started, plan.changes);
      } else {
        await apply(engine, target, step, context, plan.apply);
        facts = undefined;
        if (step.settled) {
          facts = await inspectSteps(engine, target, steps.slice(index), context);
          await step.settled(engine, host, facts[step.id] ?? {});
        }
        report(step, 'changed', started, plan.changes);
      }
    } catch (error) {
      failed = true;
      report(step, 'failed', started, [], (error as Error).message);
    }
  }
  return { host: host.name, ok: !failed, steps: results };
}

/** Every given step's facts, read in one round trip. */
export async function inspectSteps(engine: Engine, target: SshTarget, steps: SetupStep[], context: StepContext): Promise<Record<string, Facts>> {
  const calls = steps.map((step) => `echo '::step ${step.id}'; ${stepCall(step, 'inspect', step.inputs(context))}`);
  const result = await engine.ssh.exec(target, 'bash -s', {
    sudo: true,
    quiet: true,
    stdin: stepScript(steps, calls),
  });
  if (result.code !== 0) throw new PccError(`inspecting the host failed (exit ${result.code}): ${lastLines(result.stderr)}`);
  const facts: Record<string, Facts> = {};
  for (const section of result.stdout.split(/^::step /m).slice(1)) {
    const newline = section.indexOf('\n');
    facts[section.slice(0, newline).trim()] = parseFacts(section.slice(newline + 1));
  }
  return facts;
}

async function apply(engine: Engine, target: SshTarget, step: SetupStep, context: StepContext, flags: Record<string, string>): Promise<void> {
  const result = await engine.ssh.exec(target, 'bash -s', {
    sudo: true,
    stdin: stepScript([step], [stepCall(step, 'apply', { ...step.inputs(context), ...flags })]),
  });
  if (result.code !== 0) {
    const reason = /^pcc-fail: (.*)$/m.exec(result.stderr)?.[1];
    throw new PccError(reason ?? `failed (exit ${result.code}): ${lastLines(result.stderr || result.stdout)}`);
  }
}

/**
 * Records each host's outcome. A whole host setup replaces the last record and marks the host for a
 * setup again on resume (when it ran on a running host); a run of some steps only (init's services)
 * adds to the record of the setup it follows.
 */
async function recordSetup(engine: Engine, results: HostSetupResult[], whole: boolean): Promise<void> {
  const now = new Date().toISOString();
  await engine.state.update((state) => {
    for (const result of results) {
      const record = state.hosts[result.host];
      if (!record) continue;
      const ran = result.steps.filter((step): step is StepResult & { outcome: 'changed' | 'unchanged' | 'failed' | 'skipped' } => step.outcome !== 'planned');
      const previous = whole ? undefined : record.lastSetup;
      record.lastSetup = {
        at: now,
        ok: result.ok && (previous?.ok ?? true),
        steps: { ...previous?.steps, ...Object.fromEntries(ran.map((step) => [step.step, step.outcome])) },
        failures: [
          ...(previous?.failures ?? []),
          ...ran.filter((step) => step.outcome === 'failed').map((step) => ({ step: step.step, message: step.message ?? 'failed' })),
        ],
      };
      if (whole && record.state === 'running') record.setupAt = now;
    }
  });
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' / ');
}
