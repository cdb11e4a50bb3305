import { loadConfig, type Config } from '../core/config/load.js';
import { createEngine, type Engine } from '../engine/engine.js';
import { describeEvent } from '../engine/events.js';
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
