import type { Key } from 'ink';

/**
 * The one keymap: every key the main screen reacts to, with what it does. Key handling looks commands
 * up here, and the `?` help overlay and the README's key table are generated from it.
 */
export type Command =
  | 'focus.next'
  | 'focus.previous'
  | 'focus.hosts'
  | 'focus.registry'
  | 'focus.builds'
  | 'focus.peers'
  | 'focus.logs'
  | 'focus.jobs'
  | 'select.up'
  | 'select.down'
  | 'hosts.up'
  | 'init'
  | 'hosts.setup'
  | 'build'
  | 'hosts.save'
  | 'hosts.resume'
  | 'hosts.destroy'
  | 'jobs.run'
  | 'jobs.stop'
  | 'logs.show'
  | 'logs.filter'
  | 'logs.pageUp'
  | 'logs.pageDown'
  | 'logs.top'
  | 'logs.follow'
  | 'help'
  | 'quit';

/** A key: one printable character, or a named key with optional modifiers ("shift+tab", "ctrl+c"). */
export type KeySpec = string;

export interface Binding {
  command: Command;
  keys: KeySpec[];
  /** Short enough for the help's two columns. */
  description: string;
  section: 'Panels' | 'Machines' | 'Jobs' | 'Logs' | 'General';
}

export const KEYMAP: readonly Binding[] = [
  { command: 'focus.next', keys: ['tab'], description: 'focus the next panel', section: 'Panels' },
  { command: 'focus.previous', keys: ['shift+tab'], description: 'focus the previous panel', section: 'Panels' },
  { command: 'focus.hosts', keys: ['1'], description: 'focus Hosts', section: 'Panels' },
  { command: 'focus.registry', keys: ['2'], description: 'focus Registry', section: 'Panels' },
  { command: 'focus.builds', keys: ['3'], description: 'focus Builds', section: 'Panels' },
  { command: 'focus.peers', keys: ['4'], description: 'focus Peers', section: 'Panels' },
  { command: 'focus.logs', keys: ['5'], description: 'focus Logs', section: 'Panels' },
  // Jobs came after Logs: it takes the next digit, so 5 stays Logs.
  { command: 'focus.jobs', keys: ['6'], description: 'focus Jobs', section: 'Panels' },
  { command: 'select.up', keys: ['up', 'k'], description: 'row above (Logs: a line up)', section: 'Panels' },
  { command: 'select.down', keys: ['down', 'j'], description: 'row below (Logs: a line down)', section: 'Panels' },
  { command: 'hosts.up', keys: ['u'], description: 'bring up machines', section: 'Machines' },
  { command: 'init', keys: ['i'], description: 'bring up or repair init', section: 'Machines' },
  { command: 'hosts.setup', keys: ['S'], description: 'set up the selection', section: 'Machines' },
  { command: 'build', keys: ['b'], description: 'build docker/ images on init', section: 'Machines' },
  { command: 'hosts.save', keys: ['s'], description: 'save the selection (asks first)', section: 'Machines' },
  { command: 'hosts.resume', keys: ['r'], description: 'resume the selection', section: 'Machines' },
  { command: 'hosts.destroy', keys: ['d'], description: 'destroy the selection (asks first)', section: 'Machines' },
  { command: 'jobs.run', keys: ['R'], description: 'run a registry image on the fleet', section: 'Jobs' },
  { command: 'jobs.stop', keys: ['x'], description: 'stop the selected run (asks first)', section: 'Jobs' },
  // One key for every panel: what it tails follows the focused panel (see use-commands.ts).
  { command: 'logs.show', keys: ['l'], description: 'tail the selected host/build/run', section: 'Logs' },
  { command: 'logs.filter', keys: ['/'], description: 'filter the log', section: 'Logs' },
  { command: 'logs.pageUp', keys: ['pageup'], description: 'log: page up, stop following', section: 'Logs' },
  { command: 'logs.pageDown', keys: ['pagedown'], description: 'log: page down', section: 'Logs' },
  { command: 'logs.top', keys: ['home'], description: 'log: oldest line', section: 'Logs' },
  { command: 'logs.follow', keys: ['end'], description: 'log: end, follow new lines', section: 'Logs' },
  { command: 'help', keys: ['?'], description: 'show or hide this help', section: 'General' },
  { command: 'quit', keys: ['q', 'ctrl+c'], description: 'quit (asks if work is in flight)', section: 'General' },
];

const NAMED: Record<string, keyof Key> = {
  tab: 'tab',
  up: 'upArrow',
  down: 'downArrow',
  left: 'leftArrow',
  right: 'rightArrow',
  pageup: 'pageUp',
  pagedown: 'pageDown',
  home: 'home',
  end: 'end',
  escape: 'escape',
  return: 'return',
};

const LABELS: Record<string, string> = {
  tab: 'Tab',
  up: '↑',
  down: '↓',
  left: '←',
  right: '→',
  pageup: 'PgUp',
  pagedown: 'PgDn',
  home: 'Home',
  end: 'End',
  escape: 'Esc',
  return: 'Enter',
  shift: 'Shift',
  ctrl: 'Ctrl',
};

/** Whether a key press (as Ink reports it) is this key. */
export function matchesKey(spec: KeySpec, input: string, key: Key): boolean {
  const parts = spec.split('+');
  const name = parts.pop() as string;
  const shift = parts.includes('shift');
  const ctrl = parts.includes('ctrl');
  const named = NAMED[name];
  if (named) return Boolean(key[named]) && key.shift === shift && key.ctrl === ctrl;
  if (ctrl) return key.ctrl && input === name;
  return !key.ctrl && !key.meta && input === name;
}

/** The command a key press runs on the main screen, if any. */
export function commandFor(input: string, key: Key, keymap: readonly Binding[] = KEYMAP): Command | undefined {
  return keymap.find((binding) => binding.keys.some((spec) => matchesKey(spec, input, key)))?.command;
}

/** How a key is written in the help: "Shift+Tab", "PgUp", "↑", "u". */
export function keyLabel(spec: KeySpec): string {
  if (spec.length === 1) return spec;
  return spec
    .split('+')
    .map((part) => LABELS[part] ?? part.toUpperCase())
    .join('+');
}

/** The help's rows, grouped by section in keymap order. */
export function helpSections(keymap: readonly Binding[] = KEYMAP): { section: Binding['section']; rows: { keys: string; description: string }[] }[] {
  const sections: { section: Binding['section']; rows: { keys: string; description: string }[] }[] = [];
  for (const binding of keymap) {
    let entry = sections.find((candidate) => candidate.section === binding.section);
    if (!entry) sections.push((entry = { section: binding.section, rows: [] }));
    entry.rows.push({ keys: binding.keys.map(keyLabel).join(' / '), description: binding.description });
  }
  return sections;
}

/** The key table as Markdown, as the README shows it. */
export function keymapMarkdown(keymap: readonly Binding[] = KEYMAP): string {
  const rows = helpSections(keymap).flatMap(({ rows }) => rows);
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  return ['| key | action |', '| --- | --- |', ...rows.map((row) => `| ${escape(row.keys.replace(/ \/ /g, ', '))} | ${escape(row.description)} |`)].join('\n');
}
