import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { ensurePccKey } from '../../src/core/ssh-key.js';
import { makeProject, tempDir } from '../helpers/project.js';

describe("pcc's private state, outside the project folder init can write", () => {
  it('lives under $XDG_STATE_HOME (or ~/.local/state)/pcc/projects/ID, owner-only, and names its project folder', () => {
    const home = tempDir('pcc-home-');
    const root = makeProject({ 'project.env': 'PROJECT_NAME=priv\n' });
    const config = loadConfig(root, { HOME: home });
    expect(config.privateDir).toBe(path.join(home, '.local', 'state', 'pcc', 'projects', config.project.id));
    expect(statSync(config.privateDir).mode & 0o777).toBe(0o700);
    expect(readFileSync(path.join(config.privateDir, 'project'), 'utf8')).toBe(`${root}\n`);
    const xdg = tempDir('pcc-xdg-');
    expect(loadConfig(root, { HOME: home, XDG_STATE_HOME: xdg }).privateDir).toBe(path.join(xdg, 'pcc', 'projects', config.project.id));
  });

  it("moves what an earlier pcc kept in .pcc/ (key, pins, Vagrant's files, records) and leaves the rest", () => {
    const home = tempDir('pcc-home-');
    const root = makeProject({ 'project.env': 'PROJECT_NAME=old\n' });
    const earlier = path.join(root, '.pcc');
    const key = ensurePccKey(earlier, 'pcc-old');
    mkdirSync(path.join(earlier, 'vagrant', '.vagrant', 'machines', 'init', 'docker'), { recursive: true });
    writeFileSync(path.join(earlier, 'vagrant', '.vagrant', 'machines', 'init', 'docker', 'id'), 'abc123\n');
    writeFileSync(path.join(earlier, 'state.json'), '{"schemaVersion":1,"hosts":{}}\n');
    writeFileSync(path.join(earlier, 'known_hosts'), 'init ssh-ed25519 AAAA\n');
    writeFileSync(path.join(earlier, 'settings.env'), 'VARLIBDOCKER_GB=5\n');
    mkdirSync(path.join(earlier, 'registry'));

    const config = loadConfig(root, { HOME: home });
    // It kept its name as its identity (it had state before identities existed).
    expect(config.project.id).toBe('old');
    const moved = ['state.json', 'known_hosts', 'ssh/id_ed25519', 'ssh/id_ed25519.pub', 'vagrant/.vagrant/machines/init/docker/id'];
    for (const file of moved) {
      expect(existsSync(path.join(config.privateDir, file)), file).toBe(true);
      expect(existsSync(path.join(earlier, file)), file).toBe(false);
    }
    expect(statSync(path.join(config.privateDir, 'ssh', 'id_ed25519')).mode & 0o777).toBe(0o600);
    expect(ensurePccKey(config.privateDir, 'pcc-old').publicKey).toBe(key.publicKey);
    for (const kept of ['project-id', 'settings.env', 'registry']) expect(existsSync(path.join(earlier, kept)), kept).toBe(true);
  });

  it('never overwrites: a file in both places stays where it is in each', () => {
    const home = tempDir('pcc-home-');
    const root = makeProject({ 'project.env': 'PROJECT_NAME=both\n' });
    const config = loadConfig(root, { HOME: home });
    writeFileSync(path.join(config.privateDir, 'state.json'), 'current\n');
    writeFileSync(path.join(root, '.pcc', 'state.json'), 'stale\n');
    loadConfig(root, { HOME: home });
    expect(readFileSync(path.join(config.privateDir, 'state.json'), 'utf8')).toBe('current\n');
    expect(readFileSync(path.join(root, '.pcc', 'state.json'), 'utf8')).toBe('stale\n');
  });

  it("a copy of a project folder (same identity) is refused; a moved one carries on with its machines", () => {
    const home = tempDir('pcc-home-');
    const root = makeProject({ 'project.env': 'PROJECT_NAME=twin\n' });
    const config = loadConfig(root, { HOME: home });
    writeFileSync(path.join(config.privateDir, 'state.json'), '{"schemaVersion":1,"hosts":{}}\n');

    const copy = path.join(tempDir('pcc-copy-'), 'twin');
    cpSync(root, copy, { recursive: true });
    expect(() => loadConfig(copy, { HOME: home })).toThrow(/has the project identity twin-[0-9a-f]{6} of .*twin/);
    expect(() => loadConfig(copy, { HOME: home })).toThrow(expect.objectContaining({ hint: expect.stringContaining(`delete ${path.join(copy, '.pcc', 'project-id')}`) }));

    const moved = path.join(tempDir('pcc-moved-'), 'twin');
    renameSync(root, moved);
    expect(loadConfig(moved, { HOME: home }).privateDir).toBe(config.privateDir);
    expect(readFileSync(path.join(config.privateDir, 'project'), 'utf8')).toBe(`${moved}\n`);
  });
});
