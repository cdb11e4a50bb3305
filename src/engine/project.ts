import { existsSync } from 'node:fs';
import path from 'node:path';
import { PccError } from '../core/errors.js';

const MARKER = path.join('config', 'project.env');

/**
 * Finds the project pcc works on: PCC_PROJECT or --project if given, else the nearest folder at or
 * above `start` that holds config/project.env.
 */
export function findProjectRoot(start: string, explicit?: string): string {
  if (explicit) {
    const root = path.resolve(start, explicit);
    if (!existsSync(path.join(root, MARKER))) {
      throw new PccError(`${root} is not a pcc project: it has no ${MARKER}`, {
        hint: 'Point --project (or PCC_PROJECT) at the folder that holds config/project.env.',
        exitCode: 2,
      });
    }
    return root;
  }
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, MARKER))) return dir;
    if (path.dirname(dir) === dir) break;
  }
  throw new PccError(`no pcc project here: neither ${path.resolve(start)} nor a folder above it holds ${MARKER}`, {
    hint: 'Run pcc inside your project folder, or pass --project DIR (or set PCC_PROJECT).',
    exitCode: 2,
  });
}
