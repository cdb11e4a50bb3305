/**
 * The log pane's memory: a ring buffer of numbered lines (the oldest are dropped once it is full) and
 * the pure follow/scroll logic over it. Line numbers (`seq`) keep counting as lines are dropped, so a
 * view scrolled up stays on the same lines while new ones arrive.
 */

export interface LogLine {
  seq: number;
  text: string;
}

export class LogRing {
  readonly #lines: (LogLine | undefined)[];
  #next = 0;

  constructor(readonly capacity: number) {
    this.#lines = new Array<LogLine | undefined>(capacity);
  }

  push(text: string): void {
    this.#lines[this.#next % this.capacity] = { seq: this.#next, text };
    this.#next++;
  }

  clear(): void {
    this.#lines.fill(undefined);
    this.#next = 0;
  }

  get size(): number {
    return Math.min(this.#next, this.capacity);
  }

  /** Sequence number the next line gets; changes whenever a line is added. */
  get version(): number {
    return this.#next;
  }

  /** The lines held, oldest first, optionally only those containing `filter` (case-insensitive). */
  lines(filter = ''): LogLine[] {
    const out: LogLine[] = [];
    const needle = filter.toLowerCase();
    for (let seq = this.#next - this.size; seq < this.#next; seq++) {
      const line = this.#lines[seq % this.capacity] as LogLine;
      if (!needle || line.text.toLowerCase().includes(needle)) out.push(line);
    }
    return out;
  }
}

/** Where the pane looks: the end (following new lines) or a fixed first line. */
export type LogView = { follow: true } | { follow: false; topSeq: number };

export const FOLLOW: LogView = { follow: true };

/** The index in `lines` of the first visible line. */
function topIndex(lines: LogLine[], view: LogView, height: number): number {
  const last = Math.max(0, lines.length - height);
  if (view.follow) return last;
  const index = lines.findIndex((line) => line.seq >= view.topSeq);
  return index === -1 ? last : Math.min(index, last);
}

/** The lines the pane shows, at most `height`. */
export function visibleLines(lines: LogLine[], view: LogView, height: number): LogLine[] {
  const top = topIndex(lines, view, height);
  return lines.slice(top, top + height);
}

/**
 * Moves the view by `delta` lines (negative: up). Moving off the end resumes following; moving up
 * stops following, so new lines no longer move what you read.
 */
export function scrollBy(lines: LogLine[], view: LogView, height: number, delta: number): LogView {
  const last = Math.max(0, lines.length - height);
  const top = Math.max(0, Math.min(last, topIndex(lines, view, height) + delta));
  if (top >= last && delta >= 0) return FOLLOW;
  const line = lines[top];
  return line ? { follow: false, topSeq: line.seq } : FOLLOW;
}

/** Home: the oldest line held. */
export function scrollToTop(lines: LogLine[]): LogView {
  const first = lines[0];
  return first ? { follow: false, topSeq: first.seq } : FOLLOW;
}

/** Strips terminal control sequences and control characters a tool printed; expands tabs. */
export function cleanLine(text: string): string {
  // Most lines have nothing to strip: one test instead of three replacements.
  // eslint-disable-next-line no-control-regex
  if (!/[\x00-\x1f\x7f]/.test(text)) return text;
  return text
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]/g, '')
    .replace(/\t/g, '    ')
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
}
