import type { Writable } from 'node:stream';
import { describeEvent, type EngineEvent } from '../engine/events.js';

/** Lines of a host's or an image's output kept to show when its work fails. */
const TAIL_LINES = 15;
const REDRAW_MS = 100;
const SPINNER = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';

/** Output lines that mark progress worth a line of its own: Vagrant's stages, Dockerfile steps. */
const MILESTONE = /^(==> |Step \d+\/\d+)/;
/** Colours, cursor moves and other control characters a tool's output may hold: they would break the live line. */
// eslint-disable-next-line no-control-regex
const CONTROL = /\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x1f\x7f]/g;

/**
 * How a headless command shows its engine's events on stderr. Outcomes (tasks, setup steps, builds,
 * states, warnings) are always printed. The tools' own output (apt, mkfs, docker build) stays in the
 * logs unless something fails: then the failing host's or image's last lines are printed under the
 * failure. In between, a terminal gets one live line with what each piece of work is doing; without
 * a terminal only the milestones (Vagrant's stages, Dockerfile steps) are printed, as plain lines.
 */
export class ProgressReporter {
  readonly #out: Writable;
  readonly #live: boolean;
  readonly #columns: () => number;
  /** What each host or image is doing now, in the order the work started. */
  readonly #active = new Map<string, string>();
  readonly #tails = new Map<string, string[]>();
  #shown = false;
  #frame = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(out: Writable & { isTTY?: boolean; columns?: number }) {
    this.#out = out;
    this.#live = out.isTTY === true;
    this.#columns = () => out.columns ?? 100;
  }

  handle(event: EngineEvent): void {
    switch (event.type) {
      case 'host.output':
        this.#output(event.host, event.line);
        return;
      case 'build.output':
        this.#output(event.image, event.line, `${event.image}: `);
        return;
      case 'setup':
        if (event.phase === 'started') return this.#activate(event.host, event.step);
        this.#print(describeEvent(event));
        // A step's output shows only when that step failed.
        if (event.phase === 'failed') this.#printTail(event.host);
        else this.#tails.delete(event.host);
        return;
      case 'build':
        if (event.phase === 'queued' || event.phase === 'building' || event.phase === 'pushing') return this.#activate(event.image, event.phase);
        this.#active.delete(event.image);
        this.#print(describeEvent(event));
        if (event.phase === 'failed') this.#printTail(event.image);
        else this.#tails.delete(event.image);
        return;
      case 'run.output':
        // A run's output is its command's result: `pcc run` and `pcc logs` print it on stdout.
        return;
      case 'task':
        if (event.phase !== 'started') this.#active.clear();
        this.#print(describeEvent(event));
        return;
      default:
        this.#print(describeEvent(event));
    }
  }

  /** Clears the live line (the command is over). */
  close(): void {
    this.#active.clear();
    this.#redraw();
  }

  #output(key: string, line: string, plainPrefix = `${key}| `): void {
    const tail = this.#tails.get(key) ?? [];
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    this.#tails.set(key, tail);
    if (this.#live) {
      const step = this.#active.get(key)?.split(' — ')[0];
      const shown = line.replace(CONTROL, '').trim();
      this.#activate(key, step ? `${step} — ${shown}` : shown);
    } else if (MILESTONE.test(line)) {
      this.#print(`    ${plainPrefix}${line}`);
    }
  }

  #activate(key: string, doing: string): void {
    this.#active.set(key, doing);
    this.#schedule();
  }

  #printTail(key: string): void {
    for (const line of this.#tails.get(key) ?? []) this.#print(`      | ${line}`);
    this.#tails.delete(key);
  }

  #print(line: string | undefined): void {
    if (line === undefined) return;
    this.#clear();
    this.#out.write(`${line}\n`);
    this.#schedule();
  }

  #schedule(): void {
    if (!this.#live || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#redraw();
      if (this.#active.size > 0) this.#schedule();
    }, REDRAW_MS);
    this.#timer.unref();
  }

  #clear(): void {
    if (!this.#shown) return;
    this.#out.write('\r\x1b[K');
    this.#shown = false;
  }

  #redraw(): void {
    if (!this.#live) return;
    this.#clear();
    if (this.#active.size === 0) return;
    const spinner = SPINNER[this.#frame++ % SPINNER.length];
    const text = [...this.#active].map(([key, doing]) => `${key}: ${doing}`).join(' · ');
    this.#out.write(`${spinner} ${text}`.slice(0, Math.max(10, this.#columns() - 1)));
    this.#shown = true;
  }
}
