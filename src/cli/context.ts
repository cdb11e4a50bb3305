import { loadConfig, type Config } from '../core/config/load.js';
import { createEngine, type Engine } from '../engine/engine.js';
import { findProjectRoot } from '../engine/project.js';
import type { CliIo } from './io.js';
import { ProgressReporter } from './progress.js';

export function projectConfig(io: CliIo, project: string | undefined): Config {
  return loadConfig(findProjectRoot(io.cwd, project ?? io.env.PCC_PROJECT), io.env);
}

/**
 * Builds the engine for a headless command and shows its progress on stderr (ProgressReporter), so stdout
 * carries only the command's result (text or --json).
 */
export function openEngine(io: CliIo, project: string | undefined): Engine {
  const engine = createEngine(projectConfig(io, project), { env: io.env });
  const progress = new ProgressReporter(io.stderr);
  engine.events.subscribe((event) => progress.handle(event));
  return engine;
}
