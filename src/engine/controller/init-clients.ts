import Docker from 'dockerode';
import { PccError } from '../../core/errors.js';
import type { Engine } from '../engine.js';
import { INIT_REGISTRY, RegistryClient } from '../registry.js';
import { registryCredentials } from '../registry-credentials.js';
import { sshTarget } from '../ssh/pool.js';
import { TunnelAgent } from '../ssh/tunnel-agent.js';
import type { HostRecord } from '../state.js';

/** Reaching init's services from this machine: its Docker engine and its registry, through SSH. */

/** init's record; an error that says to run `pcc init` when there is none running. */
export function requireInit(engine: Engine): HostRecord {
  const host = engine.state.read().hosts.init;
  if (!host || host.state !== 'running') {
    throw new PccError(`init is ${host ? host.state : 'not there'}`, { hint: 'Bring it up (or repair it) with: pcc init' });
  }
  return host;
}

/** init's Docker engine over its pooled SSH connection (the login user is in the docker group). */
export function initDocker(engine: Engine, host: HostRecord): Docker {
  const target = sshTarget(host);
  return dockerOver(new TunnelAgent(() => engine.ssh.openUnixSocket(target, '/var/run/docker.sock')));
}

/** init's registry, reached on its loopback through SSH, over TLS verified with the project's CA and with its login. */
export function initRegistry(engine: Engine, host: HostRecord): RegistryClient {
  const target = sshTarget(host);
  const credentials = registryCredentials(engine.config);
  return new RegistryClient(`init's registry (${INIT_REGISTRY})`, {
    host: '127.0.0.1',
    port: 5000,
    agent: new TunnelAgent(() => engine.ssh.openTcp(target, '127.0.0.1', 5000), { tls: { ca: credentials.caCert, servername: 'localhost' } }),
    login: { username: credentials.username, password: credentials.password },
  });
}

function dockerOver(agent: TunnelAgent): Docker {
  // docker-modem sends every request through `agent` (its type declarations leave the option out).
  return new Docker({ protocol: 'http', host: 'docker', port: 80, agent } as Docker.DockerOptions);
}
