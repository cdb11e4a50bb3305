import { Agent, type AgentOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect, type ConnectionOptions } from 'node:tls';

/**
 * An http.Agent whose connections are streams opened over pcc's pooled SSH connection, so HTTP
 * clients (dockerode, the registry client) reach a host's services without a port of their own.
 * With `tls`, each stream carries TLS verified with those options (HTTPS through the tunnel).
 */
export class TunnelAgent extends Agent {
  readonly #open: () => Promise<Duplex>;
  readonly #tls: ConnectionOptions | undefined;

  constructor(open: () => Promise<Duplex>, options: AgentOptions & { tls?: ConnectionOptions } = {}) {
    const { tls, ...agentOptions } = options;
    super({ keepAlive: false, ...agentOptions });
    this.#open = open;
    this.#tls = tls;
  }

  override createConnection(_options: unknown, callback: (error: Error | null, stream?: Duplex) => void): undefined {
    this.#open()
      .then((stream) => (this.#tls ? secured(asSocket(stream), this.#tls) : asSocket(stream)))
      .then(
        (stream) => callback(null, stream),
        (error: Error) => callback(error),
      );
    return undefined;
  }
}

function secured(stream: Duplex, options: ConnectionOptions): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = connect({ ...options, socket: stream });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * An SSH channel has no socket options; http calls them (request timeouts, keep-alive), so they are
 * no-ops here. Deadlines are kept by the callers' own timers.
 */
function asSocket(stream: Duplex): Duplex {
  const socketLike = stream as Duplex & Record<string, unknown>;
  for (const method of ['setTimeout', 'setNoDelay', 'setKeepAlive', 'ref', 'unref']) {
    if (typeof socketLike[method] !== 'function') socketLike[method] = () => stream;
  }
  return stream;
}
