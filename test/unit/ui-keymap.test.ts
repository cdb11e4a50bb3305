import { readFileSync } from 'node:fs';
import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import { commandFor, helpSections, KEYMAP, keymapMarkdown } from '../../src/ui/keymap.js';

const NO_KEY: Key = {
  upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false,
  return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false,
  super: false, hyper: false, capsLock: false, numLock: false,
};
const press = (input: string, key: Partial<Key> = {}) => commandFor(input, { ...NO_KEY, ...key });

describe('the keymap', () => {
  it('maps the documented keys to their commands', () => {
    expect(press('', { tab: true })).toBe('focus.next');
    expect(press('', { tab: true, shift: true })).toBe('focus.previous');
    expect(['1', '2', '3', '4', '5', '6'].map((digit) => press(digit))).toEqual(['focus.hosts', 'focus.registry', 'focus.builds', 'focus.peers', 'focus.logs', 'focus.jobs']);
    expect([press('k'), press('', { upArrow: true }), press('j'), press('', { downArrow: true })]).toEqual(['select.up', 'select.up', 'select.down', 'select.down']);
    expect(['u', 'i', 'S', 'b', 's', 'r', 'd', 'l', '/', '?', 'q'].map((input) => press(input, { shift: input === 'S' }))).toEqual([
      'hosts.up', 'init', 'hosts.setup', 'build', 'hosts.save', 'hosts.resume', 'hosts.destroy', 'logs.show', 'logs.filter', 'help', 'quit',
    ]);
    expect(press('c', { ctrl: true })).toBe('quit');
    // Case matters: R runs an image, r resumes hosts.
    expect([press('R', { shift: true }), press('x')]).toEqual(['jobs.run', 'jobs.stop']);
    expect([press('', { pageUp: true }), press('', { pageDown: true }), press('', { home: true }), press('', { end: true })]).toEqual([
      'logs.pageUp', 'logs.pageDown', 'logs.top', 'logs.follow',
    ]);
    expect(press('z')).toBeUndefined();
    expect(press('q', { meta: true })).toBeUndefined();
  });

  it('binds each key once and each command once', () => {
    const keys = KEYMAP.flatMap((binding) => binding.keys);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(KEYMAP.map((binding) => binding.command)).size).toBe(KEYMAP.length);
  });

  it('tails a run with the same l as hosts and builds: one binding, no second one for runs', () => {
    expect(KEYMAP.filter((binding) => binding.keys.includes('l')).map((binding) => binding.command)).toEqual(['logs.show']);
    expect(press('l')).toBe('logs.show');
  });

  it('gives the help every binding, grouped by section', () => {
    const sections = helpSections();
    expect(sections.map((section) => section.section)).toEqual(['Panels', 'Machines', 'Jobs', 'Logs', 'General']);
    expect(sections.find((section) => section.section === 'Jobs')?.rows).toEqual([
      { keys: 'R', description: 'run a registry image on the fleet' },
      { keys: 'x', description: 'stop the selected run (asks first)' },
    ]);
    expect(sections.flatMap((section) => section.rows.map((row) => row.description))).toEqual(KEYMAP.map((binding) => binding.description));
    expect(sections[0]?.rows[1]).toEqual({ keys: 'Shift+Tab', description: 'focus the previous panel' });
  });

  it("is the README's key table", () => {
    const readme = readFileSync('README.md', 'utf8');
    const table = /<!-- keys:start -->\n([\s\S]*?)\n<!-- keys:end -->/.exec(readme)?.[1];
    expect(table, 'README.md needs the key table between <!-- keys:start --> and <!-- keys:end -->').toBe(keymapMarkdown());
  });
});
