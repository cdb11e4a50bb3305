import { readAsset } from '../assets.js';
import type { HostSettings } from '../config/load.js';
import type { Config } from '../config/load.js';
import type { HostRecord } from '../state.js';

/** What a step's `inspect` function reported: key=value facts. */
export type Facts = Record<string, string>;

/** Everything a step may read to decide what to do on one host. */
export interface StepContext {
  host: HostRecord;
  config: Config;
  /** What this host's role is told (global.env overridden by init.env or compute.env). */
  settings: HostSettings;
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
 * One setup step. Its shell lives in `src/engine/setup/<id>.sh` with two functions, `<fn>_inspect`
 * (reads the host, prints facts, changes nothing) and `<fn>_apply` (does what the plan says, then
 * verifies, exiting non-zero with `pcc-fail: reason` if the result is wrong). `plan` is pure.
 */
export interface SetupStep {
  id: string;
  title: string;
  /** Environment both shell functions read (settings, paths). */
  inputs(context: StepContext): Record<string, string>;
  plan(facts: Facts, context: StepContext): StepPlan;
}

/** The shell function prefix of a step: its id with dashes as underscores. */
export function functionPrefix(step: SetupStep): string {
  return step.id.replaceAll('-', '_');
}

/** The script sent to the host for a step: shared helpers, the step's file, then the given calls. */
export function stepScript(steps: SetupStep[], calls: string[]): string {
  return [readAsset('src/engine/setup/common.sh'), ...steps.map((step) => readAsset(`src/engine/setup/${step.id}.sh`)), ...calls, ''].join('\n');
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
