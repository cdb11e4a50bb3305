import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PccError } from '../core/errors.js';

/** Per-host log files in `.pcc/logs/HOST.log`: every line of output a host's work produced. */
export class HostLogs {
  constructor(readonly dir: string) {}

  append(host: string, line: string): void {
    mkdirSync(this.dir, { recursive: true });
    appendFileSync(this.file(host), `${new Date().toISOString()} ${line}\n`, { mode: 0o600 });
  }

  read(host: string): string {
    const file = this.file(host);
    if (!existsSync(file)) {
      throw new PccError(`no log for host ${host}`, { hint: 'pcc status lists the hosts; a host has a log once pcc has worked on it.', exitCode: 2 });
    }
    return readFileSync(file, 'utf8');
  }

  file(host: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(host)) throw new PccError(`not a host name: ${host}`, { exitCode: 2 });
    return path.join(this.dir, `${host}.log`);
  }
}
