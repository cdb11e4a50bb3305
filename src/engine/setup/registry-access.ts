import type { SetupStep, StepPlan } from './step.js';
import { unsupportedOs } from './step.js';

/** $REGISTRY_HOST for every login shell and SSH session, as in the original. */
export const registryAccess: SetupStep = {
  id: 'registry-access',
  title: 'Registry access ($REGISTRY_HOST)',
  inputs: ({ settings }) => ({ REGISTRY_HOST: settings.registryHost }),
  plan(facts, { settings }): StepPlan {
    const unsupported = unsupportedOs(facts);
    if (unsupported) return unsupported;
    if (facts.profile === 'ok' && facts.environment === 'ok') return { kind: 'unchanged' };
    return { kind: 'change', changes: [`export REGISTRY_HOST=${settings.registryHost} (/etc/profile.d/pcc.sh, /etc/environment)`], apply: {} };
  },
};
