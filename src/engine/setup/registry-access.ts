import { isDeepStrictEqual } from 'node:util';
import { INIT_REGISTRY } from '../registry.js';
import { registryCredentials } from '../registry-credentials.js';
import type { HostRecord } from '../state.js';
import { asObject, parseJsonObjectFile } from './daemon-json.js';
import type { SetupStep, StepPlan } from './step.js';
import { unsupportedOs } from './step.js';

/** The credential helper registry-access installs (`docker-credential-pcc`). */
export const CREDENTIAL_HELPER = 'pcc';

const b64 = (text: string) => Buffer.from(text).toString('base64');

/**
 * A Docker CLI config with pcc's credential helper for the registry merged in; undefined when it is
 * there already. Everything else in the file is the user's and stays.
 */
export function withCredentialHelper(currentB64: string | undefined, file: string, registries: string[]): string | undefined {
  const current = parseJsonObjectFile(currentB64, file);
  const ours = Object.fromEntries(registries.map((registry) => [registry, CREDENTIAL_HELPER]));
  const merged = { ...current, credHelpers: { ...asObject(current.credHelpers), ...ours } };
  return isDeepStrictEqual(merged, current) ? undefined : `${JSON.stringify(merged, null, 2)}\n`;
}

/** A Docker CLI config without pcc's credential helper entries: `delete` when nothing else is left in it, undefined when it has none. */
export function withoutCredentialHelper(currentB64: string | undefined, file: string, registries: string[]): string | 'delete' | undefined {
  const current = parseJsonObjectFile(currentB64, file);
  const helpers = { ...asObject(current.credHelpers) };
  for (const registry of registries) if (helpers[registry] === CREDENTIAL_HELPER) delete helpers[registry];
  const left: Record<string, unknown> = { ...current, credHelpers: helpers };
  if (Object.keys(helpers).length === 0) delete left.credHelpers;
  if (isDeepStrictEqual(left, current)) return undefined;
  return Object.keys(left).length === 0 ? 'delete' : `${JSON.stringify(left, null, 2)}\n`;
}

/** The names Docker reaches the registry by on this host: $REGISTRY_HOST, and on init also localhost:5000 (builds). */
function registriesOf(host: HostRecord, registryHost: string): string[] {
  return [...new Set([registryHost, ...(host.role === 'init' ? [INIT_REGISTRY] : [])])];
}

/**
 * $REGISTRY_HOST for every login shell and SSH session, as in the original; Docker trusting the
 * project's CA for it (certs.d, never insecure-registries) and logged in to it through a credential
 * helper whose login file only root can read.
 */
export const registryAccess: SetupStep = {
  id: 'registry-access',
  title: 'Registry access ($REGISTRY_HOST)',
  inputs: ({ config, settings, host }) => {
    const credentials = registryCredentials(config);
    const login = { ServerURL: settings.registryHost, Username: credentials.username, Secret: credentials.password.reveal() };
    return {
      REGISTRY_HOST: settings.registryHost,
      REGISTRIES: registriesOf(host, settings.registryHost).join(' '),
      CA_CERT_B64: b64(credentials.caCert),
      LOGIN_JSON_B64: b64(`${JSON.stringify(login)}\n`),
    };
  },
  removal: {
    needsFacts: true,
    inputs: ({ host, settings }, facts) => {
      const registries = registriesOf(host, settings.registryHost);
      const written = (fact: string, file: string) => withoutCredentialHelper(facts?.[fact], file, registries);
      const root = written('root_config', '/root/.docker/config.json');
      const user = facts?.user ? written('user_config', `~${facts.user}/.docker/config.json`) : undefined;
      const input = (text: string | undefined) => (text === undefined || text === 'delete' ? (text ?? '') : b64(text));
      return { REGISTRIES: registries.join(' '), ROOT_CONFIG_B64: input(root), USER_CONFIG_B64: input(user) };
    },
  },
  plan(facts, context): StepPlan {
    const unsupported = unsupportedOs(facts);
    if (unsupported) return unsupported;
    const host = context.settings.registryHost;
    const registries = registriesOf(context.host, host);
    const changes: string[] = [];
    const apply: Record<string, string> = {};
    if (facts.profile !== 'ok' || facts.environment !== 'ok') changes.push(`export REGISTRY_HOST=${host} (/etc/profile.d/pcc.sh, /etc/environment)`);
    if (facts.trust !== 'ok') {
      apply.DO_TRUST = '1';
      changes.push(`trust the project's CA for ${registries.join(' and ')} (/etc/docker/certs.d/${registries[0]}/ca.crt${registries.length > 1 ? ', …' : ''})`);
    }
    if (facts.login !== 'ok') {
      apply.DO_LOGIN = '1';
      changes.push('install the registry login for root (/etc/pcc/registry-login.json, 0600) and its credential helper');
    }
    const users: [fact: string, flag: string, file: string][] = [['root_config', 'ROOT_CONFIG_B64', '/root/.docker/config.json']];
    if (facts.user) users.push(['user_config', 'USER_CONFIG_B64', `~${facts.user}/.docker/config.json`]);
    for (const [fact, flag, file] of users) {
      let merged: string | undefined;
      try {
        merged = withCredentialHelper(facts[fact], file, registries);
      } catch (error) {
        return { kind: 'refuse', reason: (error as Error).message };
      }
      if (merged !== undefined) {
        apply[flag] = b64(merged);
        changes.push(`log Docker in to ${registries.join(' and ')} through the credential helper (${file})`);
      }
    }
    return changes.length === 0 ? { kind: 'unchanged' } : { kind: 'change', changes, apply };
  },
};
