import { Agent, type AgentOptions } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * An http.Agent whose connections are streams opened over pcc's pooled SSH connection, so HTTP
 * clients (dockerode, the registry client) reach a host's services without a port of their own.
 */
export class TunnelAgent extends Agent {
  readonly #open: () => Promise<Duplex>;

  constructor(open: () => Promise<Duplex>, options: AgentOptions = {}) {
    super({ keepAlive: false, ...options });
    this.#open = open;
  }

  override createConnection(_options: unknown, callback: (error: Error | null, stream?: Duplex) => void): undefined {
    this.#open().then(
      (stream) => callback(null, asSocket(stream)),
      (error: Error) => callback(error),
    );
    return undefined;
  }
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
