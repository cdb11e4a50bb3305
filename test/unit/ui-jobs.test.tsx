import { writeFileSync } from 'node:fs';
import { cleanup, render } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/core/config/load.js';
import { PccError } from '../../src/core/errors.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { UserPreferences } from '../../src/engine/preferences.js';
import type { RunRecord } from '../../src/engine/run-records.js';
import { finishRuns, followRun, startRun, stopRun } from '../../src/engine/runs.js';
import { AppContainer } from '../../src/ui/app-container.js';
import { RUNS_POLL_MS } from '../../src/ui/hooks/use-runs.js';
import { makeProject, tempDir } from '../helpers/project.js';

// The Jobs panel's work is engine calls to init's swarm: stand-ins here record how the UI calls them (a test
// that wants the engine's own behaviour without a swarm hands the real function back).
vi.mock('../../src/engine/runs.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/engine/runs.js')>()),
  startRun: vi.fn(),
  stopRun: vi.fn(),
  followRun: vi.fn(),
  finishRuns: vi.fn(),
}));

// The focused panel's selected row is shown inverse: chalk decides at import whether to colour, so before the imports.
vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});

const KEYS = { enter: '\r', right: '\x1b[C', tab: '\t' };
/** The engine's own functions, for the tests that hand them back. */
const engineRuns = await vi.importActual<typeof import('../../src/engine/runs.js')>('../../src/engine/runs.js');
// The test stdin holds one write until Ink reads it: give each key time to be read and rendered.
const tick = () => new Promise((resolve) => setTimeout(resolve, 80));

const runFields = (fields: Partial<RunRecord> = {}): Omit<RunRecord, 'id'> => ({
  image: 'analysis:latest', reference: `registry.pcc:5000/analysis@sha256:${'a'.repeat(64)}`, digest: `sha256:${'a'.repeat(64)}`, command: [], envNames: [],
  pattern: 'compute hosts', hosts: ['vagrant1'], replicas: 1, gpus: 0, serviceId: 'svc1', state: 'running', startedAt: new Date().toISOString(), tasks: [], ...fields,
});

/** What the engine does when a run ends: the record says how, then a `run` finished event. */
async function finish(engine: Engine, id: string, state: RunRecord['state'], exitCode?: number): Promise<RunRecord> {
  const record = await engine.runs.update(id, (current) => ({ ...current, state, endedAt: new Date().toISOString(), ...(exitCode === undefined ? {} : { exitCode }) }));
  engine.events.emit({ type: 'run', run: id, phase: 'finished', message: state });
  return record;
}

async function openApp(runs: Partial<RunRecord>[] = []) {
  vi.mocked(finishRuns).mockReset().mockImplementation(async (engine) => engine.runs.list());
  vi.mocked(followRun).mockReset().mockImplementation(async (engine, id) => engine.runs.read(id));
  vi.mocked(startRun).mockReset();
  vi.mocked(stopRun).mockReset();
  const engine = createEngine(loadConfig(makeProject({ 'project.env': 'PROJECT_NAME=uitest\n' }), {}), { env: {}, providers: [] });
  for (const run of runs) await engine.runs.create(runFields(run));
  const preferences = new UserPreferences({ XDG_CONFIG_HOME: tempDir('pcc-config-') }, () => undefined);
  const app = render(<AppContainer engine={engine} preferences={preferences} />);
  const screen = () => (app.lastFrame() ?? '').replace(/\x1b\[[0-9;]*m/g, '');
  // A frame is drawn before its components take the keys (their input handlers follow as effects): a tick after it.
  const expectScreen = async (text: string | RegExp) => {
    await expect.poll(screen, { timeout: 10_000 }).toMatch(text);
    await tick();
  };
  /** Waits until the focused panel shows the row holding `text` selected (inverse), so the next key acts on it. */
  const expectSelected = async (text: string) => {
    await expect.poll(() => app.lastFrame() ?? '', { timeout: 10_000 }).toMatch(new RegExp(`\x1b\\[7m[^\n]*${text}`));
    await tick();
  };
  const press = async (...keys: string[]) => {
    for (const key of keys) {
      app.stdin.write(key);
      await tick();
    }
  };
  await expectScreen('✓ read hosts from the providers');
  return { ...app, engine, screen, expectScreen, expectSelected, press };
}

// As generous as expectScreen: on a loaded machine a test's frames come late; the polling tests also wait out poll periods.
describe('the Jobs panel', { timeout: 30_000 }, () => {
  // A test's UI would go on polling and following into the next test's counts.
  afterEach(cleanup);

  it('R starts the run the form describes, then focuses Jobs on the new run and checks it at once', async () => {
    const app = await openApp([{ state: 'succeeded', exitCode: 0 }, { state: 'failed', exitCode: 2 }]);
    let startedAt = 0;
    const checkedAt: number[] = [];
    vi.mocked(finishRuns).mockImplementation(async (engine) => {
      checkedAt.push(Date.now());
      return engine.runs.list();
    });
    vi.mocked(startRun).mockImplementation(async (engine) => {
      startedAt = Date.now();
      const record = await engine.runs.create(runFields({ image: 'analysis:v2', hosts: ['gpu1', 'gpu2'], replicas: 2 }));
      engine.events.emit({ type: 'run', run: record.id, phase: 'started', message: 'started' });
      return record;
    });
    // The older run selected, then the focus elsewhere: the start moves both.
    await app.press('6');
    await app.expectSelected('job-2');
    await app.press('j');
    await app.expectSelected('job-1');
    await app.press('1', 'R');
    await app.expectScreen('Run an image on the fleet');
    // Each field takes the keys once it shows the marker.
    await app.press('analysis:v2', KEYS.tab);
    await app.expectScreen('› Hosts:');
    await app.press('gpu', KEYS.tab);
    await app.expectScreen('› Replicas:');
    // ink-text-input edits the value it last drew: the next key waits for the field to show the last.
    await app.press('\x7f');
    await app.expectScreen(/Replicas:\s*║/);
    await app.press('2');
    await app.expectScreen(/Replicas: 2/);
    await app.press(KEYS.enter);
    await app.expectScreen('✓ run analysis:v2 × 2 on gpu: job-3 started on gpu1, gpu2 — l tails it, x stops it');
    expect(startRun).toHaveBeenCalledWith(app.engine, { image: 'analysis:v2', command: [], pattern: 'gpu', replicas: 2, gpus: 0, env: [] });
    await app.expectSelected('job-3');
    expect(app.screen()).toMatch(/job-3\s+running\s+analysis:v2\s+gpu1,gpu2/);
    // Checked right after the start, not a poll period later.
    expect(finishRuns).toHaveBeenCalledWith(app.engine);
    expect((checkedAt[0] ?? Infinity) - startedAt).toBeLessThan(RUNS_POLL_MS / 2);
  });

  it('polls the engine while a run is running, and stops once none is', async () => {
    const app = await openApp([{ state: 'succeeded', exitCode: 0 }, {}]);
    await app.expectScreen(/job-2\s+running/);
    await expect.poll(() => vi.mocked(finishRuns).mock.calls.length, { timeout: 3 * RUNS_POLL_MS }).toBeGreaterThanOrEqual(2);
    // The engine records the run's end at the next check.
    vi.mocked(finishRuns).mockImplementation(async (engine) => {
      const running = engine.runs.list().filter((run) => run.state === 'running');
      for (const run of running) await finish(engine, run.id, 'failed', 3);
      return engine.runs.list();
    });
    await app.expectScreen(/job-2\s+failed/);
    const checks = vi.mocked(finishRuns).mock.calls.length;
    // Nothing runs: no more checks (waiting out more than one period shows it).
    await new Promise((resolve) => setTimeout(resolve, RUNS_POLL_MS + 500));
    expect(vi.mocked(finishRuns).mock.calls.length).toBe(checks);
  });

  it('shows why the runs could not be checked in the panel and goes on; the next check that works clears it', async () => {
    const app = await openApp([{}]);
    vi.mocked(finishRuns).mockRejectedValueOnce(new PccError('cannot reach init', { hint: 'Resume init.' }));
    await app.expectScreen('cannot check the runs: cannot reach init — Resume init.');
    expect(app.screen()).toMatch(/job-1\s+running/);
    await expect.poll(app.screen, { timeout: 3 * RUNS_POLL_MS }).not.toContain('cannot check the runs');
  });

  it('l on a running run follows it in the log pane until the pane shows something else', async () => {
    const app = await openApp([{}]);
    const signals: AbortSignal[] = [];
    vi.mocked(followRun).mockImplementation(async (engine, id, signal) => {
      if (signal) signals.push(signal);
      engine.events.emit({ type: 'run.output', run: id, task: `${id}.1@vagrant1`, line: 'epoch 1 loss 0.3' });
      await new Promise((resolve) => signal?.addEventListener('abort', resolve));
      return engine.runs.read(id);
    });
    await app.press('6');
    await app.expectSelected('job-1');
    await app.press('l');
    await app.expectScreen('job-1.1@vagrant1 | epoch 1 loss 0.3');
    expect(followRun).toHaveBeenCalledWith(app.engine, 'job-1', expect.any(AbortSignal));
    expect(signals[0]?.aborted).toBe(false);
    // Another source in the pane (l with nothing selected in Hosts: pcc's activity) stops following.
    await app.press('1', 'l');
    await app.expectScreen('pcc activity · following');
    expect(signals[0]?.aborted).toBe(true);
    // Following again, then quitting, stops it too.
    await app.press('6');
    await app.expectSelected('job-1');
    await app.press('l');
    await expect.poll(() => signals.length, { timeout: 10_000 }).toBe(2);
    app.unmount();
    expect(signals[1]?.aborted).toBe(true);
  });

  it('x stops the selected run once confirmed; the panel shows it stopped', async () => {
    const app = await openApp([{ state: 'succeeded', exitCode: 0 }, {}]);
    vi.mocked(stopRun).mockImplementation(async (engine, id) => finish(engine, id, 'stopped'));
    await app.expectScreen(/job-2\s+running/);
    await app.press('x');
    await app.expectScreen('Stop job-2?');
    await app.press(KEYS.right);
    await expect.poll(() => app.lastFrame() ?? '', { timeout: 10_000 }).not.toContain('\x1b[7m Cancel ');
    await tick();
    await app.press(KEYS.enter);
    await app.expectScreen('✓ stop job-2: stopped');
    expect(stopRun).toHaveBeenCalledExactlyOnceWith(app.engine, 'job-2');
    expect(app.screen()).toMatch(/job-2\s+stopped/);
  });

  it("lists pcc's recorded runs; 6, and Tab from Logs, focus them for l", async () => {
    const app = await openApp([{ state: 'succeeded', exitCode: 0, endedAt: new Date().toISOString(), tasks: [{ replica: 1, host: 'vagrant1', state: 'complete', exitCode: 0 }] }, { image: 'base:v2' }]);
    await app.expectScreen(/job-2\s+running\s+base:v2\s+vagrant1\s+\d+ s\s+-/);
    expect(app.screen()).toMatch(/job-1\s+succeeded\s+analysis:latest\s+vagrant1\s+\d+ s\s+0/);
    // l tails what the focused panel has selected: the newest run first, then the row below.
    await app.press('6');
    await app.expectSelected('job-2');
    await app.press('l');
    await app.expectScreen('run job-2 · following');
    await app.press('5', KEYS.tab);
    await app.expectSelected('job-2');
    await app.press('j');
    await app.expectSelected('job-1');
    await app.press('l');
    await app.expectScreen('run job-1 · following');
  });

  it('l on a run that ended tails its log as recorded; its live lines go to no other log', async () => {
    const app = await openApp([{ state: 'succeeded', exitCode: 0, endedAt: new Date().toISOString() }, { state: 'failed', exitCode: 1 }]);
    writeFileSync(app.engine.runs.logFile('job-1'), 'job-1.1@vagrant1 | 2025-01-01T00:00:00.000Z seed 3\njob-1.1@vagrant1 | done\n');
    await app.press('6');
    await app.expectSelected('job-2');
    await app.press('j');
    await app.expectSelected('job-1');
    await app.press('l');
    await app.expectScreen('run job-1 · following');
    // Run logs carry no timestamps of pcc's: a line that starts with one keeps it.
    await app.expectScreen('job-1.1@vagrant1 | 2025-01-01T00:00:00.000Z seed 3');
    expect(app.screen()).toContain('job-1.1@vagrant1 | done');
    app.engine.events.emit({ type: 'run.output', run: 'job-2', task: 'job-2.1@vagrant1', line: 'not this run' });
    app.engine.events.emit({ type: 'run.output', run: 'job-1', task: 'job-1.1@vagrant1', line: 'a late line' });
    await app.expectScreen('job-1.1@vagrant1 | a late line');
    expect(app.screen()).not.toContain('not this run');
    // Run output stays out of pcc's activity log: a line logged after it reaches the file, it does not.
    app.engine.events.emit({ type: 'log', level: 'info', message: 'activity marker' });
    await expect.poll(() => app.engine.logs.read('pcc')).toContain('activity marker');
    expect(app.engine.logs.read('pcc')).not.toContain('a late line');
  });

  it("l on a running run while init is not running: the engine's follower returns at once and the pane says why", async () => {
    const app = await openApp([{}]);
    vi.mocked(followRun).mockImplementation(engineRuns.followRun);
    await app.press('6');
    await app.expectSelected('job-1');
    await app.press('l');
    await app.expectScreen("! job-1 runs, but init (its swarm's manager) is not running: resume init");
  });

  it("x confirmed calls the engine: without init there is no swarm to stop the run in, and the status line says what to do", async () => {
    const app = await openApp([{}]);
    vi.mocked(stopRun).mockImplementation(engineRuns.stopRun);
    await app.expectScreen(/job-1\s+running/);
    await app.press('x');
    await app.expectScreen('Stop job-1?');
    await app.press(KEYS.right);
    await expect.poll(() => app.lastFrame() ?? '', { timeout: 10_000 }).not.toContain('\x1b[7m Cancel ');
    await tick();
    await app.press(KEYS.enter);
    await app.expectScreen(/✗ stop job-1: cannot reach init to stop job-1 — Resume init/);
    expect(app.engine.runs.read('job-1').state).toBe('running');
  });
});
