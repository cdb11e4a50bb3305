import path from 'node:path';
import type { Config } from '../core/config/load.js';
import { ensureRegistryCredentials, type RegistryCredentials } from '../core/registry-credentials.js';
import { INIT_OVERLAY_INDEX, overlayAddress } from './overlay/addressing.js';
import { isPrivateAddress } from './overlay/wireguard.js';

const made = new WeakMap<Config, RegistryCredentials>();

/**
 * The project registry's CA, certificate and login (made once, kept with pcc's state). The
 * certificate names localhost, init's overlay address and each role's REGISTRY_HOST, never a public
 * address: hosts reach the registry over the overlay, so a new public address changes nothing.
 */
export function registryCredentials(config: Config): RegistryCredentials {
  let credentials = made.get(config);
  if (!credentials) {
    const names = ['localhost', '127.0.0.1', overlayAddress(config.hosts.init.overlay, INIT_OVERLAY_INDEX).address];
    for (const settings of Object.values(config.hosts)) {
      const host = settings.registryHost.replace(/:\d+$/, '');
      if (!/^[\d.]+$/.test(host) || isPrivateAddress(host)) names.push(host);
    }
    credentials = ensureRegistryCredentials(path.join(config.privateDir, 'registry-tls'), config.project.id, names);
    made.set(config, credentials);
  }
  return credentials;
}
