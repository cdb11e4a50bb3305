import { createHash } from 'node:crypto';
import { overlayAddress, INIT_OVERLAY_INDEX } from '../overlay/addressing.js';
import { registryCredentials } from '../registry-credentials.js';
import { unsupportedOs, type SetupStep, type StepContext, type StepPlan } from '../setup/step.js';
import { REGISTRY_DATA_DIR } from './registry-volume.js';

function initOverlayAddress(context: StepContext): string {
  return overlayAddress(context.settings.overlay, INIT_OVERLAY_INDEX).address;
}

function spec(context: StepContext): string {
  const options = [context.config.registry.image, REGISTRY_DATA_DIR, 'delete', 'tls', 'htpasswd', `127.0.0.1:5000`, `${initOverlayAddress(context)}:5000`];
  return createHash('sha256').update(JSON.stringify(options)).digest('hex').slice(0, 16);
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

/**
 * The registry container on init: REGISTRY_IMAGE with deletes enabled, TLS from the project's CA and
 * htpasswd auth, published on localhost and init's overlay address only, started by systemd.
 */
export const registryService: SetupStep = {
  id: 'registry-service',
  script: 'controller/registry-service',
  title: 'Registry',
  inputs: (context) => {
    const credentials = registryCredentials(context.config);
    return {
      REGISTRY_IMAGE: context.config.registry.image,
      DATA_DIR: REGISTRY_DATA_DIR,
      OVERLAY_ADDRESS: initOverlayAddress(context),
      SPEC: spec(context),
      CA_CERT_B64: b64(credentials.caCert),
      SERVER_CERT_B64: b64(credentials.serverCert),
      SERVER_KEY_B64: b64(credentials.serverKey.reveal()),
      HTPASSWD_B64: b64(`${credentials.htpasswd}\n`),
    };
  },
  plan(facts, context): StepPlan {
    const unsupported = unsupportedOs(facts);
    if (unsupported) return unsupported;
    const { image } = context.config.registry;
    if (facts.image !== 'present') {
      return { kind: 'refuse', reason: `the registry image ${image} is not on init and could not be pulled or copied there` };
    }
    const changes: string[] = [];
    const apply: Record<string, string> = {};
    if (facts.files !== 'ok') {
      apply.DO_FILES = '1';
      changes.push('install the registry certificate and password file (/etc/pcc/registry, root only)');
    }
    if (facts.unit !== 'ok') {
      apply.DO_UNIT = '1';
      changes.push('install pcc-registry.service (starts the registry once the overlay is up)');
    }
    if (facts.spec !== spec(context)) {
      apply.DO_CREATE = '1';
      changes.push(`run ${image} as pcc-registry with TLS and a password on 127.0.0.1:5000 and ${initOverlayAddress(context)}:5000 (data in ${REGISTRY_DATA_DIR})`);
    }
    if (changes.length === 0 && facts.running !== 'true') changes.push('start pcc-registry');
    return changes.length === 0 ? { kind: 'unchanged' } : { kind: 'change', changes, apply };
  },
};
