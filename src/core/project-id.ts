import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors.js';

const ID = /^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$/;

/** Files a project that pcc worked on before identities existed has: it keeps its name as its identity. */
const EARLIER_STATE = ['state.json', 'vagrant/machines.json', 'ec2/region'];

/**
 * The project's identity in everything pcc names outside the project folder — EC2 tags, key pair and
 * security group, the ssh alias file — so two projects with the same folder name never touch each
 * other's machines. Made once (the name and a random suffix) and kept in `.pcc/project-id`.
 */
export function projectId(stateDir: string, name: string): string {
  const file = path.join(stateDir, 'project-id');
  if (!existsSync(file)) {
    const earlier = EARLIER_STATE.some((known) => existsSync(path.join(stateDir, known)));
    const made = earlier ? name : `${name}-${randomBytes(3).toString('hex')}`;
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    try {
      // wx: when two pcc processes start at once, the first identity written is everybody's.
      writeFileSync(file, `${made}\n`, { flag: 'wx', mode: 0o644 });
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    }
  }
  const id = readFileSync(file, 'utf8').trim();
  if (!ID.test(id)) {
    throw new ConfigError(`.pcc/project-id: ${JSON.stringify(id)} is not a project identity (lower-case letters, digits and -)`, 'Restore it: EC2 resources are tagged with it. Delete it only for a project with no EC2 resources.');
  }
  return id;
}
