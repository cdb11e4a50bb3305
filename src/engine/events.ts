import { EventEmitter } from 'node:events';
import type { MachineState, ProviderName } from '../providers/provider.js';
import type { PeerStatus } from './overlay/peer-status.js';

/**
 * Everything the engine reports while it works. The terminal UI and the headless CLI both consume
 * these, and nothing else, to show progress.
 */
export type EngineEvent =
  /** A host appeared, changed state or address, or was removed (state `gone`). */
  | { type: 'host.state'; host: string; provider: ProviderName; state: MachineState | 'gone'; address?: string; stopReason?: string }
  /** One line a host's work printed (provider tool, SSH command). Also written to the host's log. */
  | { type: 'host.output'; host: string; stream: 'stdout' | 'stderr'; line: string }
  /** A long operation (up, save, resume, destroy ...) started or ended. */
  | { type: 'task'; task: string; phase: 'started' | 'succeeded' | 'failed'; title: string; error?: string }
  /**
   * A setup step on a host: started, then changed / unchanged / failed, or planned (--dry-run) or
   * skipped (an earlier step of that host failed). `changes` lists what it changed or would change.
   */
  | { type: 'setup'; host: string; step: string; phase: SetupPhase; changes?: string[]; message?: string }
  /** An image build: queued, building, pushing, then done / failed / skipped (with the reason). */
  | { type: 'build'; image: string; phase: BuildPhase; message?: string; durationMs?: number }
  /** One line of an image's build or push output (also in `.pcc/logs/build-IMAGE.log`). */
  | { type: 'build.output'; image: string; line: string }
  /** A run (`pcc run`): started, a replica placed, waiting or ended, then finished (its record is written). */
  | { type: 'run'; run: string; phase: 'started' | 'replica' | 'finished'; message: string }
  /** One line a run's replica printed; `task` names it as job-N.REPLICA@HOST. */
  | { type: 'run.output'; run: string; task: string; line: string }
  /** The overlay's peers as last read from the hosts (the whole list each time). */
  | { type: 'peers'; peers: PeerStatus[] }
  /** Something worth a person's attention that is not a host's output. */
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string; host?: string };

export type SetupPhase = 'started' | 'changed' | 'unchanged' | 'failed' | 'planned' | 'skipped';

export type BuildPhase = 'queued' | 'building' | 'pushing' | 'done' | 'failed' | 'skipped';

export type EngineEventType = EngineEvent['type'];

/** A typed event bus; one per engine instance (no global). */
export class EngineEvents {
  readonly #emitter = new EventEmitter();

  emit(event: EngineEvent): void {
    this.#emitter.emit('event', event);
  }

  /** Subscribes to every event; returns the function that unsubscribes. */
  subscribe(listener: (event: EngineEvent) => void): () => void {
    this.#emitter.on('event', listener);
    return () => this.#emitter.off('event', listener);
  }
}

/** One line that tells a person what an event means (the CLI prints it, the UI logs it); none for peers. */
export function describeEvent(event: EngineEvent): string | undefined {
  switch (event.type) {
    case 'task':
      if (event.phase === 'started') return `==> ${event.title}`;
      if (event.phase === 'failed') return `==> ${event.title}: failed`;
      return `==> ${event.title}: done`;
    case 'host.state':
      return `    ${event.host}: ${event.state}${event.stopReason ? ` (${event.stopReason})` : ''}${event.address ? ` at ${event.address}` : ''}`;
    case 'host.output':
      return `    ${event.host}| ${event.line}`;
    case 'setup':
      if (event.phase === 'started') return undefined;
      return `    ${event.host}: ${event.step} ${event.phase}${event.message ? `: ${event.message}` : ''}`;
    case 'build':
      return `    ${event.image}: ${event.phase}${event.message ? `: ${event.message}` : ''}${event.durationMs === undefined ? '' : ` (${(event.durationMs / 1000).toFixed(1)} s)`}`;
    case 'build.output':
      return `    ${event.image}| ${event.line}`;
    case 'run':
      return `    ${event.run}: ${event.message}`;
    case 'run.output':
      return `${event.task} | ${event.line}`;
    case 'log':
      return `    ${event.level === 'info' ? '' : `${event.level}: `}${event.host ? `${event.host}: ` : ''}${event.message}`;
  }
}
