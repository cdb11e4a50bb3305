import Docker from 'dockerode';
import { PccError } from '../core/errors.js';

/**
 * A dockerode client for the engine that DOCKER_HOST names in `env` (the default socket when unset).
 * Taking env explicitly, rather than letting docker-modem read process.env, lets callers and tests
 * aim at a specific engine.
 */
export function dockerFromEnv(env: NodeJS.ProcessEnv, timeoutMs: number): Docker {
  const host = env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (host.startsWith('unix://')) return new Docker({ socketPath: host.slice('unix://'.length), timeout: timeoutMs });
  const url = new URL(host);
  if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:') {
    const tls = url.protocol === 'https:' || env.DOCKER_TLS_VERIFY === '1';
    return new Docker({
      host: url.hostname,
      port: Number(url.port || (tls ? 2376 : 2375)),
      protocol: tls ? 'https' : 'http',
      timeout: timeoutMs,
    });
  }
  if (url.protocol === 'ssh:') {
    return new Docker({ protocol: 'ssh', host: url.hostname, port: Number(url.port || 22), username: url.username || undefined, timeout: timeoutMs });
  }
  throw new PccError(`DOCKER_HOST=${host}: unsupported scheme ${url.protocol}`, {
    hint: 'Use unix:///path/to/docker.sock, tcp://host:port or ssh://user@host.',
    exitCode: 2,
  });
}
