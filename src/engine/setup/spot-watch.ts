import type { SetupStep, StepPlan } from './step.js';
import { unsupportedOs } from './step.js';

/** Where the watcher asks for the notice: EC2's instance metadata service (IMDSv2). */
export const INSTANCE_METADATA = 'http://169.254.169.254';

/**
 * Spot hosts watch for EC2's two-minute interruption notice themselves: pcc and init may be off when it
 * comes. On the notice the host stops its containers with SIGTERM and records the interruption.
 */
export const spotWatch: SetupStep = {
  id: 'spot-watch',
  removal: { inputs: () => ({}) },
  title: 'Spot interruption watch',
  inputs: ({ host }) => ({ SPOT: host.billing?.spot ? 'yes' : '', METADATA: INSTANCE_METADATA }),
  plan(facts, { host }): StepPlan {
    const unsupported = unsupportedOs(facts);
    if (unsupported) return unsupported;
    if (!host.billing?.spot) {
      return facts.files === 'absent' ? { kind: 'unchanged', note: 'not a spot host' } : { kind: 'change', changes: ['remove the spot watch (not a spot host)'], apply: {} };
    }
    if (facts.files === 'ok' && facts.service === 'active/enabled') return { kind: 'unchanged', note: 'watching for the notice' };
    return { kind: 'change', changes: ["watch for EC2's interruption notice; on it, stop containers with SIGTERM and record it (pcc-spot-watch.service)"], apply: {} };
  },
};
