import { PccError } from '../../core/errors.js';
import type { Engine } from '../engine.js';
import { overlayMembers } from '../overlay/members.js';
import { sshTarget } from '../ssh/pool.js';
import type { HostRecord } from '../state.js';
import { hostSteps, inspectSteps, swarmOf } from './setup.js';
import { stepCall, stepScript, type StepContext } from './step.js';

export interface SetupRemoval {
  /** The steps taken off the host, last step first. */
  removed: string[];
  /** What stays on it, each with why. */
  kept: string[];
}

/**
 * Takes pcc's host setup off a machine, step by step in reverse order, each by its own `remove`
 * function (`pcc remove` of the user's own machines). With `keepSetup`, Docker and its volume stay.
 * Steps without a removal stay, and are named in the report.
 */
export async function removeSetup(engine: Engine, host: HostRecord, options: { keepSetup: boolean }): Promise<SetupRemoval> {
  const context: StepContext = { host, config: engine.config, settings: engine.config.hosts[host.role], members: () => overlayMembers(engine), swarm: () => swarmOf(engine) };
  const target = sshTarget(host);
  const report: SetupRemoval = { removed: [], kept: [] };
  for (const step of hostSteps(engine.config, host.role).reverse()) {
    const removal = step.removal;
    if (!removal) {
      report.kept.push(`${step.title}: pcc does not take it off`);
      continue;
    }
    if (options.keepSetup && removal.keptWithSetup) {
      report.kept.push(`${step.title}: kept (--keep-setup)`);
      continue;
    }
    const facts = removal.needsFacts ? (await inspectSteps(engine, target, [step], context))[step.id] : undefined;
    const result = await engine.ssh.exec(target, 'bash -s', { sudo: true, stdin: stepScript([step], [stepCall(step, 'remove', removal.inputs(context, facts))]) });
    if (result.code !== 0) {
      const reason = /^pcc-fail: (.*)$/m.exec(result.stderr)?.[1] ?? `exit ${result.code}: ${result.stderr.trim().split('\n').slice(-3).join(' / ')}`;
      throw new PccError(`${host.name}: could not take off ${step.title}: ${reason}`, {
        hint: `What was taken off so far: ${report.removed.join(', ') || 'nothing'}. Fix the cause and run pcc remove ${host.name} again.`,
      });
    }
    engine.logs.append(host.name, `remove ${step.id}: done`);
    engine.events.emit({ type: 'log', level: 'info', host: host.name, message: `took off ${step.title}` });
    report.removed.push(step.id);
  }
  return report;
}
