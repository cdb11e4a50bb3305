import { createHash } from 'node:crypto';
import { unsupportedOs, type SetupStep, type StepContext, type StepPlan } from '../setup/step.js';
import { REGISTRY_DATA_DIR } from './registry-volume.js';

function spec({ config }: StepContext): string {
  return createHash('sha256').update(JSON.stringify([config.registry.image, REGISTRY_DATA_DIR, 'delete', 5000])).digest('hex').slice(0, 16);
}

/** The registry container on init: REGISTRY_IMAGE, restart always, deletes enabled, port 5000. */
export const registryService: SetupStep = {
  id: 'registry-service',
  script: 'controller/registry-service',
  title: 'Registry',
  inputs: (context) => ({ REGISTRY_IMAGE: context.config.registry.image, DATA_DIR: REGISTRY_DATA_DIR, SPEC: spec(context) }),
  plan(facts, context): StepPlan {
    const unsupported = unsupportedOs(facts);
    if (unsupported) return unsupported;
    if (facts.image !== 'present') {
      return { kind: 'refuse', reason: `the registry image ${context.config.registry.image} is not on init and could not be pulled or copied there` };
    }
    if (facts.spec !== spec(context)) {
      return { kind: 'change', changes: [`run ${context.config.registry.image} as pcc-registry on port 5000 (data in ${REGISTRY_DATA_DIR})`], apply: { DO_CREATE: '1' } };
    }
    if (facts.running !== 'true') return { kind: 'change', changes: ['start pcc-registry'], apply: {} };
    return { kind: 'unchanged' };
  },
};
