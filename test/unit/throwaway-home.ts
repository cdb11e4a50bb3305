import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** pcc keeps each project's private state under the home folder: unit tests get a throw-away one. */
export default function setup(): () => void {
  const home = mkdtempSync(path.join(tmpdir(), 'pcc-unit-home-'));
  process.env.HOME = home;
  return () => rmSync(home, { recursive: true, force: true });
}
