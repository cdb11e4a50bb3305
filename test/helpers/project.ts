import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temporary folder removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Makes a throw-away pcc project whose config/ holds the given files (path under config/ → text). */
export function makeProject(files: Record<string, string> = {}, name = 'demo-project'): string {
  const root = path.join(tempDir('pcc-test-'), name);
  mkdirSync(path.join(root, 'config', 'hosts'), { recursive: true });
  const all = { 'project.env': '', ...files };
  for (const [file, text] of Object.entries(all)) {
    mkdirSync(path.dirname(path.join(root, 'config', file)), { recursive: true });
    writeFileSync(path.join(root, 'config', file), text);
  }
  return root;
}

/** Every file under a folder (for searches of everything pcc wrote, such as for secrets). */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? filesUnder(file) : [file];
  });
}
