import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { render } from 'ink-testing-library';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { EngineEvent } from '../../src/engine/events.js';
import { UserPreferences } from '../../src/engine/preferences.js';
import type { RunRecord } from '../../src/engine/run-records.js';
import type { HostRecord } from '../../src/engine/state.js';
import type { Machine, Provider } from '../../src/providers/provider.js';
import { SshProvider } from '../../src/providers/ssh/ssh-provider.js';
import { AppContainer, EVENT_BATCH_MS } from '../../src/ui/app-container.js';
import { makeProject, tempDir } from '../helpers/project.js';

const KEYS = { enter: '\r', escape: '\x1b', right: '\x1b[C', pageUp: '\x1b[5~', end: '\x1b[F' };
// The test stdin holds one write until Ink reads it: give each key time to be read and rendered.
const tick = () => new Promise((resolve) => setTimeout(resolve, 80));

const host = (name: string): HostRecord => ({
  name, provider: 'vagrant', role: 'compute', computeType: 'cpu', state: 'running', extras: {},
  ssh: { host: '127.0.0.1', port: 2200, user: 'vagrant', identityFile: '/dev/null' }, createdAt: '', updatedAt: '',
});

/** A provider (the engine's test seam) whose listing waits until released, so the start-up reconcile stays in flight. */
class HeldProvider implements Provider {
  readonly name = 'vagrant' as const;
  release: () => void = () => undefined;
  readonly #held = new Promise<void>((resolve) => (this.release = resolve));
  capabilities() {
    return { canSuspend: true };
  }
  async list(): Promise<Machine[]> {
    await this.#held;
    return [];
  }
  async up(): Promise<Machine[]> {
    throw new Error('not used');
  }
  async start() {}
  async save() {}
  async destroy() {}
  async sshEndpoint(): Promise<never> {
    throw new Error('not used');
  }
}

/** A run as `pcc run` records it. */
const runFields = (fields: Partial<RunRecord> = {}): Omit<RunRecord, 'id'> => ({
  image: 'analysis:latest', reference: `registry.pcc:5000/analysis@sha256:${'a'.repeat(64)}`, digest: `sha256:${'a'.repeat(64)}`, command: [], envNames: [],
  pattern: 'compute hosts', hosts: ['vagrant1'], replicas: 1, gpus: 0, serviceId: 'svc1', state: 'running', startedAt: new Date().toISOString(), tasks: [], ...fields,
});

async function openApp(options: { hosts?: string[]; providers?: Provider[]; configHome?: string; runs?: Partial<RunRecord>[] } = {}) {
  const root = makeProject({ 'project.env': 'PROJECT_NAME=uitest\n' });
  const engine = createEngine(loadConfig(root, {}), { env: {}, providers: options.providers ?? [] });
  await engine.state.update((state) => {
    for (const name of options.hosts ?? []) state.hosts[name] = host(name);
  });
  for (const run of options.runs ?? []) await engine.runs.create(runFields(run));
  const events: EngineEvent[] = [];
  engine.events.subscribe((event) => events.push(event));
  const warnings: string[] = [];
  const preferences = new UserPreferences({ XDG_CONFIG_HOME: options.configHome ?? tempDir('pcc-config-') }, (message) => warnings.push(message));
  const app = render(<AppContainer engine={engine} preferences={preferences} />);
  const screen = () => (app.lastFrame() ?? '').replace(/\x1b\[[0-9;]*m/g, '');
  const press = async (...keys: string[]) => {
    for (const key of keys) {
      app.stdin.write(key);
      await tick();
    }
  };
  // Start-up reads the hosts from the providers (at once, unless a provider holds it).
  await expectScreen(screen, options.providers ? 'read hosts from the providers' : '✓ read hosts from the providers');
  return { ...app, engine, events, screen, press, preferences, warnings };
}

async function expectScreen(screen: () => string, text: string | RegExp) {
  // Generous: a loaded machine renders late, and a passing screen returns at once.
  await expect.poll(screen, { timeout: 10_000 }).toMatch(text);
}

/** The UI still runs (it did not quit): a new log line reaches the screen. */
async function expectAlive(engine: Engine, screen: () => string) {
  const marker = `alive ${Math.random().toString(36).slice(2, 8)}`;
  engine.events.emit({ type: 'log', level: 'info', message: marker });
  await expectScreen(screen, marker);
}

function emitLines(engine: Engine, count: number, prefix = 'line') {
  for (let index = 0; index < count; index++) engine.events.emit({ type: 'log', level: 'info', message: `${prefix} ${index}` });
}

// As generous as expectScreen: on a loaded machine (the whole unit project on two cores) a test's frames come late.
describe('the terminal UI', { timeout: 30_000 }, () => {
  it('opens with every panel, their next steps, and a status line', async () => {
    const { screen } = await openApp();
    await expectScreen(screen, /✓ read hosts from the providers: 0 host\(s\)/);
    for (const text of ['1 Hosts', '2 Registry', '3 Builds', '4 Peers', '5 Logs', '6 Jobs', 'no hosts — press u to bring one up', 'no registry — press i', 'no builds yet', 'the overlay has no', 'no runs yet — press R', '? help · q quit']) {
      expect(screen()).toContain(text);
    }
  });

  it('fits the terminal, one line short of its height, and lays out again when it is resized', async () => {
    const { screen, stdout, engine } = await openApp({ hosts: ['vagrant1', 'vagrant2'] });
    emitLines(engine, 200, 'a long line '.repeat(30));
    const resize = (columns: number, rows: number) => {
      Object.defineProperty(stdout, 'columns', { value: columns, configurable: true });
      Object.defineProperty(stdout, 'rows', { value: rows, configurable: true });
      stdout.emit('resize');
    };
    for (const [columns, rows] of [[160, 48], [80, 24], [60, 14], [200, 60]] as const) {
      resize(columns, rows);
      await vi.waitFor(() => {
        const lines = screen().split('\n');
        expect(lines.length).toBe(rows - 1);
        expect(Math.max(...lines.map((line) => [...line].length))).toBe(columns);
      });
    }
  });

  it('applies a stream of engine events in batches: a few frames, not one per event', async () => {
    const { screen, frames, engine } = await openApp();
    const before = frames.length;
    const started = Date.now();
    // 150 events, one every 2 ms or so: at most one redraw per batch period, not one per event.
    for (let index = 0; index < 150; index++) {
      engine.events.emit({ type: 'log', level: 'info', message: `stream ${index}` });
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await expectScreen(screen, 'stream 149');
    const batchPeriods = (Date.now() - started) / EVENT_BATCH_MS;
    expect(frames.length - before).toBeLessThanOrEqual(Math.ceil(batchPeriods) + 3);
  });

  it('keys do not fire while the help is open; Esc closes it', async () => {
    const provider = new HeldProvider();
    provider.release();
    const { screen, press, engine } = await openApp({ providers: [provider] });
    await press('?');
    await expectScreen(screen, 'Keys');
    // Each would act outside the help: u opens the bring-up menu, b starts a build, d asks to destroy.
    await press('u', 'b', 'd');
    expect(screen()).toContain('Keys');
    await press(KEYS.escape);
    await expectScreen(screen, '1 Hosts');
    await expectAlive(engine, screen);
    expect(screen()).not.toMatch(/Bring up machines|Destroy|build images/);
  });

  it('the status line warns about a compute host running with idle stop off, beside the latest outcome', async () => {
    const { screen } = await openApp({ hosts: ['vagrant1'] });
    await expectScreen(screen, /read hosts from the providers.*⚠ vagrant1 runs with idle stop off/);
  });

  it('the q that closes the help does not also quit', async () => {
    const { screen, press, engine } = await openApp();
    await press('?');
    await expectScreen(screen, 'Keys');
    // A re-render while the help is open reorders the key listeners: the help's now runs first.
    emitLines(engine, 1);
    await expectScreen(screen, 'Keys');
    await press('q');
    await expectScreen(screen, '1 Hosts');
    await expectAlive(engine, screen);
  });

  it('the bring-up menu takes j/k and digits itself', async () => {
    const provider = new HeldProvider();
    provider.release();
    const { screen, press, engine } = await openApp({ providers: [provider] });
    await press('u');
    await expectScreen(screen, 'Provider:');
    await press('j', '5', 'q', 'd');
    expect(screen()).toContain('Bring up machines');
    await press(KEYS.escape);
    await expectScreen(screen, '1 Hosts');
    await expectAlive(engine, screen);
    expect(screen()).not.toContain('Destroy');
  });

  it('the bring-up menu adds an existing machine: USER@HOST checked, its name proposed, the password shown as stars and never on screen', async () => {
    const provider = new HeldProvider();
    provider.release();
    const app = await openApp({ providers: [provider] });
    app.engine.providers.set('ssh', new SshProvider(app.engine.config));
    await app.press('u');
    await expectScreen(app.screen, 'add an existing machine (ssh)');
    await app.press('j', KEYS.enter);
    await expectScreen(app.screen, 'Machine (USER@HOST or USER@HOST:PORT)');
    await app.press('lab7', KEYS.enter);
    await expectScreen(app.screen, 'lab7: expected USER@HOST or USER@HOST:PORT');
    // ink-text-input edits the value it last drew: each key waits for the one before it to show.
    for (const left of ['lab', 'la', 'l']) {
      await app.press('\x7f');
      await expectScreen(app.screen, new RegExp(`║ ${left}\\s+║`));
    }
    await app.press('\x7f');
    await expectScreen(app.screen, 'alice@lab1.example.org');
    // Nothing listens there: the login fails at once.
    await app.press('alice@127.0.0.1:1', KEYS.enter);
    await expectScreen(app.screen, /Name for alice@127\.0\.0\.1:1 .*\n.*host-127-0-0-1/);
    await app.press(KEYS.enter);
    await expectScreen(app.screen, 'Machine type (host-127-0-0-1)');
    await app.press(KEYS.enter);
    await expectScreen(app.screen, 'Password for the first login');
    await app.press('hunter2');
    await expectScreen(app.screen, '*******');
    expect(app.screen()).not.toContain('hunter2');
    await app.press(KEYS.enter);
    await expectScreen(app.screen, /✗ add alice@127\.0\.0\.1:1 as host-127-0-0-1/);
    expect(app.screen()).not.toContain('hunter2');
    expect(app.engine.state.read().hosts).toEqual({});
  });

  it("remembers the last bring-up in the user's preferences; the next run's menu starts on it", async () => {
    const configHome = tempDir('pcc-config-');
    const provider = new HeldProvider();
    provider.release();
    const first = await openApp({ providers: [provider], configHome });
    await first.press('u', KEYS.enter, 'j', KEYS.enter, 'j', 'j', KEYS.enter);
    await expectScreen(first.screen, 'Set them up once they run');
    await first.press('j', KEYS.enter);
    // HeldProvider cannot bring machines up: the choice is remembered all the same.
    await expectScreen(first.screen, /✗ bring up 3 vagrant gpu machine\(s\)/);
    await vi.waitFor(() =>
      expect(JSON.parse(readFileSync(first.preferences.file, 'utf8'))).toEqual({ lastUp: { provider: 'vagrant', computeType: 'gpu', count: 3, setup: false } }),
    );
    first.unmount();

    const second = await openApp({ providers: [provider], configHome });
    await second.press('u', KEYS.enter);
    await expectScreen(second.screen, /❯ gpu/);
    await second.press(KEYS.enter);
    await expectScreen(second.screen, /❯ 3/);
    await second.press(KEYS.enter);
    await expectScreen(second.screen, /❯ no — only bring up/);
    expect(second.warnings).toEqual([]);
  });

  it('a preferences file pcc cannot read is left as it is, with a warning', async () => {
    const configHome = tempDir('pcc-config-');
    mkdirSync(path.join(configHome, 'pcc'));
    writeFileSync(path.join(configHome, 'pcc', 'preferences.json'), '{"lastUp": {"provider": "azure"');
    const provider = new HeldProvider();
    provider.release();
    const app = await openApp({ providers: [provider], configHome });
    await app.press('u');
    await expectScreen(app.screen, /❯ vagrant/);
    await app.press(KEYS.enter, KEYS.enter, KEYS.enter, KEYS.enter);
    await expectScreen(app.screen, /✗ bring up 1 vagrant cpu machine\(s\) and set them up/);
    await vi.waitFor(() => expect(app.warnings.join('\n')).toMatch(/ignoring .*preferences\.json .*fix or delete it/));
    expect(readFileSync(path.join(configHome, 'pcc', 'preferences.json'), 'utf8')).toBe('{"lastUp": {"provider": "azure"');
  });

  it('/ filters the log; keys typed into the filter only filter', async () => {
    const { engine, screen, press } = await openApp();
    emitLines(engine, 3, 'docker');
    emitLines(engine, 3, 'quota');
    await expectScreen(screen, 'quota 2');
    await press('/', 'q', 'u', 'o');
    await expectScreen(screen, '/quo▏');
    expect(screen()).not.toContain('Bring up machines');
    await press(KEYS.enter);
    await expectScreen(screen, 'quota 1');
    expect(screen()).not.toContain('docker 1');
    await press('/', KEYS.escape);
    await expectScreen(screen, 'docker 1');
  });

  it('follows the log until scrolled up; End resumes following', async () => {
    const { engine, screen, press } = await openApp();
    emitLines(engine, 60);
    await expectScreen(screen, 'line 59');
    await press('5', KEYS.pageUp);
    await expectScreen(screen, 'scrolled — End follows');
    expect(screen()).not.toContain('line 59');
    emitLines(engine, 5, 'later');
    await tick();
    expect(screen()).not.toContain('later 4');
    await press(KEYS.end);
    await expectScreen(screen, 'later 4');
    await expectScreen(screen, 'following');
  });

  it('save asks first, starting on Cancel; errors land in the status line', async () => {
    const { engine, events, screen, press } = await openApp({ hosts: ['vagrant1', 'vagrant2'] });
    await expectScreen(screen, 'vagrant2');
    await press('j', 's');
    await expectScreen(screen, 'Save vagrant1?');
    await expectScreen(screen, 'vagrant1 (vagrant) is powered off (disk kept, memory lost)');
    await press(KEYS.enter);
    expect(screen()).not.toContain('Save vagrant1?');
    expect(events.some((event) => event.type === 'task' && event.task === 'save')).toBe(false);
    await press('s', KEYS.right, KEYS.enter);
    await expectScreen(screen, /✗ save vagrant1: the vagrant provider is not available/);
    expect(events).toContainEqual(expect.objectContaining({ type: 'task', task: 'save', phase: 'failed' }));
    expect(engine.logs.read('vagrant1')).toContain('error: save vagrant1: the vagrant provider is not available');
  });

  it("destroying every host of a provider needs the provider's name typed", async () => {
    const { events, screen, press } = await openApp({ hosts: ['vagrant1', 'vagrant2'] });
    await expectScreen(screen, 'vagrant2');
    await press('d');
    for (const text of ['Destroy vagrant?', 'vagrant1 (vagrant, running): the machine and its disk are deleted', 'vagrant2 (vagrant, running)', 'that is every vagrant host', 'Type vagrant to enable Destroy']) {
      expect(screen()).toContain(text);
    }
    await press(KEYS.right, KEYS.enter);
    await expectScreen(screen, 'Destroy vagrant?');
    await press('v', 'a', 'g', 'r', 'a', 'n', 't', KEYS.enter);
    await expectScreen(screen, /✗ destroy vagrant: /);
    expect(events).toContainEqual(expect.objectContaining({ type: 'task', task: 'destroy', title: 'destroy vagrant', phase: 'started' }));
  });

  it('quitting while work is in flight asks first', async () => {
    const provider = new HeldProvider();
    const { screen, press } = await openApp({ providers: [provider] });
    await expectScreen(screen, 'read hosts from the providers');
    await press('q');
    await expectScreen(screen, 'Quit while work is in flight?');
    await expectScreen(screen, 'read hosts from the providers — stops where it is');
    await press(KEYS.enter);
    expect(screen()).not.toContain('Quit while work is in flight?');
    provider.release();
    await expectScreen(screen, /✓ read hosts from the providers/);
  });

  it('x asks before stopping the selected run, starting on Cancel; Cancel leaves it running', async () => {
    const { engine, events, screen, press } = await openApp({ runs: [{ image: 'analysis:latest', hosts: ['vagrant1', 'vagrant2'], replicas: 2 }] });
    await expectScreen(screen, /job-1\s+running/);
    await press('x');
    await expectScreen(screen, 'Stop job-1?');
    expect(screen()).toContain('its 2 replica(s) of analysis:latest on vagrant1,vagrant2 stop: their containers are removed');
    // The dialog's input handler follows its frame.
    await tick();
    await press(KEYS.enter);
    await expectScreen(screen, '6 Jobs');
    expect(screen()).not.toContain('Stop job-1?');
    await expectAlive(engine, screen);
    expect(screen()).not.toContain('stop job-1');
    expect(engine.runs.read('job-1').state).toBe('running');
    expect(events.some((event) => event.type === 'run')).toBe(false);
  });

  it('x on a run that ended, or with no run, says so instead of asking', async () => {
    const empty = await openApp();
    await empty.press('x');
    await expectScreen(empty.screen, '✗ no run selected — press R to start one');
    const { screen, press } = await openApp({ runs: [{ state: 'failed', exitCode: 3, endedAt: new Date().toISOString() }] });
    await expectScreen(screen, /job-1\s+failed/);
    await press('x');
    await expectScreen(screen, '✗ nothing to stop: job-1 failed');
    expect(screen()).not.toContain('Stop job-1?');
  });

  it("R starts a run from the form; the engine's error and hint land in the status line", async () => {
    const { engine, screen, press } = await openApp();
    await press('R');
    await expectScreen(screen, 'Run an image on the fleet');
    // Keys that are commands elsewhere only type into the form.
    await press('x', 'q', 'd');
    await expectScreen(screen, /Image: +xqd/);
    // The form's input handler follows its frame.
    await tick();
    await press(KEYS.enter);
    await expectScreen(screen, /✗ run xqd × 1: init is not there — Bring it up \(or repair it\) with: pcc init/);
    expect(engine.runs.list()).toEqual([]);
  });
});
