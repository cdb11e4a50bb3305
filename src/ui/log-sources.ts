import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import type { Engine } from '../engine/engine.js';
import { describeEvent, type EngineEvent } from '../engine/events.js';
import { cleanLine, type LogRing } from './log-buffer.js';

/**
 * What the log pane can tail: a host, an image's build, pcc's own activity (tasks, states, messages,
 * and anything printed while the UI owns the screen), or a run (`pcc run`). Each has a file — in
 * `.pcc/logs/`, a run's in `.pcc/runs/` once it ended — so the pane starts from the file's tail and
 * then appends live lines from engine events.
 */
export type LogSource = { kind: 'host'; host: string } | { kind: 'build'; image: string } | { kind: 'activity' } | { kind: 'run'; run: string };

/**
 * The key a source's live lines are filed under: the name HostLogs files it under, or `run:job-N`
 * for a run (a colon is in no host name, so a run never takes a host's lines).
 */
export function logKey(source: LogSource): string {
  if (source.kind === 'host') return source.host;
  if (source.kind === 'build') return `build-${source.image}`;
  if (source.kind === 'run') return runLogKey(source.run);
  return 'pcc';
}

function runLogKey(run: string): string {
  return `run:${run}`;
}

export function sourceTitle(source: LogSource): string {
  if (source.kind === 'host') return `host ${source.host}`;
  if (source.kind === 'build') return `build ${source.image}`;
  if (source.kind === 'run') return `run ${source.run}`;
  return 'pcc activity';
}

/**
 * Where an event's line belongs, and its text, written as the engine writes it to that log file.
 * Activity lines are not written by the engine: the UI appends them to `pcc.log` itself.
 */
export function logLineOf(event: EngineEvent): { key: string; text: string } | undefined {
  switch (event.type) {
    case 'host.output':
      return { key: event.host, text: event.stream === 'stderr' ? `! ${event.line}` : event.line };
    case 'setup':
      if (event.phase === 'started') return undefined;
      return { key: event.host, text: `setup ${event.step}: ${event.phase}${event.message ? `: ${event.message}` : ''}${event.changes?.length ? ` (${event.changes.join('; ')})` : ''}` };
    case 'build.output':
      return { key: `build-${event.image}`, text: event.line };
    case 'build':
      if (event.phase !== 'done' && event.phase !== 'failed' && event.phase !== 'skipped') return undefined;
      return { key: `build-${event.image}`, text: `${event.phase}${event.message ? `: ${event.message}` : ''} (${((event.durationMs ?? 0) / 1000).toFixed(1)} s)` };
    case 'run.output':
      // As the engine writes each line to the run's log when it ends.
      return { key: runLogKey(event.run), text: `${event.task} | ${event.line}` };
    case 'task':
      return { key: 'pcc', text: `${describeEvent(event)}${event.error ? `: ${event.error}` : ''}` };
    case 'peers':
      return undefined;
    default: {
      const text = describeEvent(event);
      return text ? { key: 'pcc', text: text.trim() } : undefined;
    }
  }
}

/** The most a source's file contributes when the pane opens it. */
const TAIL_BYTES = 1 << 20;

/** Fills the ring with the tail of the source's log file (without the timestamps HostLogs writes; run logs have none). */
export function loadTail(engine: Pick<Engine, 'logs' | 'runs'>, source: LogSource, ring: LogRing): void {
  ring.clear();
  const file = source.kind === 'run' ? engine.runs.logFile(source.run) : engine.logs.file(logKey(source));
  if (!existsSync(file)) return; // the source has printed nothing yet (a run's log is written when it ends)
  const size = statSync(file).size;
  const start = Math.max(0, size - TAIL_BYTES);
  const buffer = Buffer.alloc(size - start);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, buffer.length, start);
  } finally {
    closeSync(fd);
  }
  const lines = buffer.toString('utf8').split('\n');
  if (start > 0) lines.shift(); // a partial first line
  if (lines.at(-1) === '') lines.pop();
  const withoutTimestamp = (line: string) => (source.kind === 'run' ? line : line.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, ''));
  for (const line of lines.slice(-ring.capacity)) ring.push(cleanLine(withoutTimestamp(line)));
}
