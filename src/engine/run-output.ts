/**
 * A run's output as Swarm's service logs deliver it: Docker's multiplexed stream cut into lines, and
 * each line's timestamp and task read from its details (`runs.ts` names the replicas).
 */

export interface LogLine {
  timestamp: string | undefined;
  taskId: string | undefined;
  nodeId: string | undefined;
  text: string;
}

/** One line of Swarm's service log: [timestamp] [com.docker.swarm.*=... details] text. */
export function parseLogLine(line: string): LogLine {
  let rest = line;
  let timestamp: string | undefined;
  const time = /^(\d{4}-\d\d-\d\dT\S+Z) /.exec(rest);
  if (time) {
    timestamp = time[1];
    rest = rest.slice(time[0].length);
  }
  const details = /^(\S*com\.docker\.swarm\.\S*) ?/.exec(rest);
  const attributes = new Map<string, string>();
  if (details?.[1]) {
    for (const pair of details[1].split(',')) {
      const at = pair.indexOf('=');
      if (at > 0) attributes.set(pair.slice(0, at), decodeURIComponent(pair.slice(at + 1)));
    }
    rest = rest.slice(details[0].length);
  }
  return { timestamp, taskId: attributes.get('com.docker.swarm.task.id'), nodeId: attributes.get('com.docker.swarm.node.id'), text: rest };
}

/**
 * Docker's multiplexed log stream (8-byte frame headers: stream, 0, 0, 0, length) cut into lines; a
 * stream without headers (a TTY) is taken as plain text.
 */
export class LogLines {
  #buffer = Buffer.alloc(0);
  #partial = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    while (this.#buffer.length >= 8) {
      const kind = this.#buffer[0] ?? 0;
      const framed = kind <= 2 && this.#buffer[1] === 0 && this.#buffer[2] === 0 && this.#buffer[3] === 0;
      if (!framed) {
        this.#text(this.#buffer.toString('utf8'));
        this.#buffer = Buffer.alloc(0);
        return;
      }
      const length = this.#buffer.readUInt32BE(4);
      if (this.#buffer.length < 8 + length) return;
      this.#text(this.#buffer.subarray(8, 8 + length).toString('utf8'));
      this.#buffer = this.#buffer.subarray(8 + length);
    }
  }

  flush(): void {
    if (this.#buffer.length > 0) this.#text(this.#buffer.toString('utf8'));
    this.#buffer = Buffer.alloc(0);
    if (this.#partial) this.onLine(this.#partial);
    this.#partial = '';
  }

  #text(text: string): void {
    const parts = (this.#partial + text).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const part of parts) this.onLine(part.replace(/\r$/, ''));
  }
}
