import { readAsset } from '../../core/assets.js';
import { shellQuote } from '../ssh/pool.js';
import type { Config, HostSettings } from '../../core/config/load.js';
import type { Engine } from '../engine.js';
import type { OverlayMember } from '../overlay/addressing.js';
import type { HostRecord, SwarmRecord } from '../state.js';

/** What a step's `inspect` function reported: key=value facts. */
export type Facts = Record<string, string>;

/** Everything a step may read to decide what to do on one host. */
export interface StepContext {
  host: HostRecord;
  config: Config;
  /** What this host's role is told (global.env overridden by init.env or compute.env). */
  settings: HostSettings;
  /** The overlay's members as state holds them now (read at each call: joins happen concurrently). */
  members(): OverlayMember[];
  /**
   * The swarm compute hosts join, as init, its manager, last reported it (read at each call, like
   * `members`); `no-init` where the project has no init to manage one.
   */
  swarm?(): SwarmRecord | 'no-init' | undefined;
}

/** The outcome of planning a step from its facts. */
export type StepPlan =
  /** Nothing differs; `note` says why when that is worth saying ("no GPU"). */
  | { kind: 'unchanged'; note?: string }
  /** These changes are needed; `apply` is the environment for the step's apply function. */
  | { kind: 'change'; changes: string[]; apply: Record<string, string> }
  /** The host is not in a state pcc may change; nothing is touched. */
  | { kind: 'refuse'; reason: string };

/**
 * One setup step. Its shell lives in `src/engine/<script>.sh` with two functions,
 * `<script>_inspect` (reads the host, prints facts, changes nothing) and `<script>_apply` (does what
 * the plan says, then verifies, exiting non-zero with `pcc-fail: reason` if the result is wrong).
 * Several steps may share a script with different inputs. `plan` is pure.
 */
export interface SetupStep {
  id: string;
  title: string;
  /** The shell file, from src/engine without `.sh`; default `setup/<id>`. Its base name prefixes the functions. */
  script?: string;
  /** Variables both shell functions read (settings, paths), set for that one call. */
  inputs(context: StepContext): Record<string, string>;
  plan(facts: Facts, context: StepContext): StepPlan;
  /** Runs once before any host of a setup run starts, e.g. to give each host its overlay address. */
  prepare?(engine: Engine, hosts: HostRecord[]): Promise<void>;
  /** Runs when the step left a host as it should be (changed or unchanged), with the step's fresh facts. */
  settled?(engine: Engine, host: HostRecord, facts: Facts): Promise<void>;
  /** Taking the step's work off a host again (`pcc remove`): its script's `remove` function. */
  removal?: StepRemoval;
}

/**
 * How a step's `<script>_remove` function is called. It removes what the step put on the host, and
 * only that, and fails with `pcc-fail:` when something stays.
 */
export interface StepRemoval {
  /** Docker and its volume: what `pcc remove --keep-setup` leaves on the machine. */
  keptWithSetup?: boolean;
  /** The function's inputs; given the step's facts (an inspect runs first) when it needs them, e.g. to write a user's file back without pcc's keys. */
  inputs(context: StepContext, facts: Facts | undefined): Record<string, string>;
  /** Whether `inputs` needs the facts. */
  needsFacts?: boolean;
}

function scriptName(step: SetupStep): string {
  return step.script ?? `setup/${step.id}`;
}

/**
 * A call of one of a step's shell functions with its inputs (and apply flags) set for that call:
 * inspect, apply, or another function of the step's file (the overlay's `peers` and `status`).
 */
export function stepCall(step: SetupStep, fn: string, variables: Record<string, string>): string {
  const assignments = Object.entries(variables).map(([key, value]) => `${key}=${shellQuote(value)}`);
  const base = scriptName(step).split('/').pop() ?? '';
  return [...assignments, `${base.replaceAll('-', '_')}_${fn}`].join(' ');
}

/** The script sent to the host: shared helpers, each step's file once, then the given calls. */
export function stepScript(steps: SetupStep[], calls: string[]): string {
  const files = [...new Set(steps.map(scriptName))].map((name) => readAsset(`src/engine/${name}.sh`));
  return [readAsset('src/engine/setup/common.sh'), ...files, ...calls, ''].join('\n');
}

/** Parses key=value lines, keeping only the first `=` as the separator. */
export function parseFacts(text: string): Facts {
  const facts: Facts = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) facts[line.slice(0, at)] = line.slice(at + 1);
  }
  return facts;
}

/** A refusal for hosts that are not Debian or Ubuntu, or undefined when the host is supported. */
export function unsupportedOs(facts: Facts): StepPlan | undefined {
  const os = facts.os ?? '';
  if (os.startsWith('unsupported:')) {
    return { kind: 'refuse', reason: `unsupported OS ${os.slice('unsupported:'.length)}: pcc sets up Debian and Ubuntu hosts (apt)` };
  }
  if (!os) return { kind: 'refuse', reason: 'could not read /etc/os-release' };
  return undefined;
}
