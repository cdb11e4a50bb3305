import { loadConfig, type Config } from '../engine/config/load.js';
import { createEngine, type Engine } from '../engine/engine.js';
import type { EngineEvent } from '../engine/events.js';
import { findProjectRoot } from '../engine/project.js';
import { print, type CliIo } from './io.js';

export function projectConfig(io: CliIo, project: string | undefined): Config {
  return loadConfig(findProjectRoot(io.cwd, project ?? io.env.PCC_PROJECT), io.env);
}

/**
 * Builds the engine for a headless command and prints its progress events to stderr, so stdout
 * carries only the command's result (text or --json).
 */
export function openEngine(io: CliIo, project: string | undefined): Engine {
  const engine = createEngine(projectConfig(io, project), { env: io.env });
  engine.events.subscribe((event) => {
    const line = describeEvent(event);
    if (line) print(io.stderr, line);
  });
  return engine;
}

export function describeEvent(event: EngineEvent): string | undefined {
  switch (event.type) {
    case 'task':
      if (event.phase === 'started') return `==> ${event.title}`;
      if (event.phase === 'failed') return `==> ${event.title}: failed`;
      return `==> ${event.title}: done`;
    case 'host.state':
      return `    ${event.host}: ${event.state}${event.address ? ` at ${event.address}` : ''}`;
    case 'host.output':
      return `    ${event.host}| ${event.line}`;
    case 'setup':
      if (event.phase === 'started') return undefined;
      return `    ${event.host}: ${event.step} ${event.phase}${event.message ? `: ${event.message}` : ''}`;
    case 'build':
      return `    ${event.image}: ${event.phase}${event.message ? `: ${event.message}` : ''}${event.durationMs === undefined ? '' : ` (${(event.durationMs / 1000).toFixed(1)} s)`}`;
    case 'build.output':
      return `    ${event.image}| ${event.line}`;
    case 'log':
      return `    ${event.level === 'info' ? '' : `${event.level}: `}${event.host ? `${event.host}: ` : ''}${event.message}`;
  }
}
