import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFleetProject, PCC_BIN, pcc, projectContainers, removeProjectContainers } from '../helpers/pcc.js';

/**
 * The real `pcc` binary in a real pseudo-terminal (tmux, on a server of its own), driven by keys
 * against the fleet: bring up a Vagrant machine, set it up, tail its log, save it, destroy it, quit.
 */
describe('the terminal UI in a terminal, on the fleet', () => {
  const project = makeFleetProject('tui');
  const socket = `pcc-${project.name}`;
  const tmux = (...args: string[]) => execa('tmux', ['-L', socket, ...args], { env: project.env, extendEnv: false, stdin: 'ignore' });
  const screen = async () => (await tmux('capture-pane', '-p', '-t', 'tui')).stdout;
  const pane = async (format: string) => (await tmux('display-message', '-p', '-t', 'tui', format)).stdout.trim();
  /** Sends keys one at a time, as a person types. */
  const keys = async (...names: string[]) => {
    for (const name of names) {
      await tmux('send-keys', '-t', 'tui', name);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  };
  const typeText = (text: string) => tmux('send-keys', '-t', 'tui', '-l', text);

  async function waitFor(pattern: RegExp, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = await screen();
      if (pattern.test(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error(`the screen never showed ${pattern} within ${timeoutMs / 1000} s; it shows:\n${last}`);
  }

  beforeAll(async () => {
    // A shell of its own in a 160×48 terminal; Ink renders nothing live when it thinks it runs in CI.
    project.env = { ...project.env, CI: undefined, CONTINUOUS_INTEGRATION: undefined, TERM: 'xterm-256color' };
    await tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'tui', '-x', '160', '-y', '48', 'bash --norc --noprofile');
    await tmux('send-keys', '-t', 'tui', `cd ${project.root} && PS1='$ ' && clear && echo BEFORE-PCC && node ${PCC_BIN}; echo PCC-EXIT=$?`, 'Enter');
  });
  afterAll(async () => {
    await tmux('kill-server').catch(() => undefined);
    await pcc(project, ['destroy', 'all', '--yes']);
    await removeProjectContainers(project);
  });

  it('opens full screen on the alternate screen with every panel', async () => {
    const shown = await waitFor(/no hosts — press u to bring one up/, 30_000);
    for (const title of ['1 Hosts', '2 Registry', '3 Builds', '4 Peers', '5 Logs', '? help · q quit']) expect(shown).toContain(title);
    expect(await pane('#{alternate_on}')).toBe('1');
    await waitFor(/✓ read hosts from the providers: 0 host\(s\)/, 60_000);
  });

  it('brings up a Vagrant machine with u: provider, type and count menus', async () => {
    await keys('u');
    await waitFor(/Provider:[\s\S]*❯ vagrant/, 10_000);
    await keys('Enter');
    await waitFor(/Machine type \(vagrant\):/, 10_000);
    await keys('Enter');
    await waitFor(/How many cpu machines \(vagrant\)\?/, 10_000);
    await keys('Enter');
    // Setting up follows with S in the next test.
    await waitFor(/Set them up once they run/, 10_000);
    await keys('j', 'Enter');
    await waitFor(/bring up 1 vagrant cpu machine\(s\)/, 10_000);
    await waitFor(/✓ bring up 1 vagrant cpu machine\(s\): vagrant1 running — press S to set up/, 240_000);
    await waitFor(/vagrant1\s+vagrant\s+vagrant,cpu\s+running\s+127\.0\.0\.1:\d+/, 5_000);
  }, 300_000);

  it('sets it up with S and shows the progress until every step finished', async () => {
    await keys('1', 'j', 'S');
    await waitFor(/set up vagrant1/, 10_000);
    // The fleet's kernel has no NFS client, so the /project step refuses; every other step succeeds.
    await waitFor(/✗ set up vagrant1: vagrant1: project-share: this host's kernel has no NFS client/, 300_000);
    // The status line has the task's outcome at once; the row follows with the next batch of events.
    await waitFor(/vagrant1\s.*████████ 9\/9 ✗ project-share/, 5_000);
    const log = await execa('node', [PCC_BIN, 'logs', 'vagrant1'], { cwd: project.root, env: project.env, extendEnv: false });
    for (const step of ['docker-storage', 'docker-engine', 'registry-access', 'cuda']) expect(log.stdout).toMatch(new RegExp(`setup ${step}: (changed|unchanged)`));
  }, 360_000);

  it("tails the machine's log with l; PgUp stops following, End resumes", async () => {
    await keys('l');
    await waitFor(/5 Logs host vagrant1 · following/, 10_000);
    const shown = await waitFor(/setup docker-engine: changed/, 10_000);
    expect(shown).toContain('setup project-share: failed');
    await keys('PPage');
    await waitFor(/host vagrant1 · scrolled — End follows/, 10_000);
    await keys('End');
    await waitFor(/host vagrant1 · following/, 10_000);
  });

  it('saves it through the confirm dialog, which starts on Cancel', async () => {
    await keys('1', 's');
    const dialog = await waitFor(/Save vagrant1\?/, 10_000);
    expect(dialog).toContain('vagrant1 (vagrant) is powered off (disk kept, memory lost)');
    await keys('Enter');
    await waitFor(/1 Hosts/, 10_000);
    expect(await screen()).toMatch(/vagrant1\s+vagrant\s+vagrant,cpu\s+running/);
    await keys('s', 'Right', 'Enter');
    await waitFor(/✓ save vagrant1: vagrant1 stopped/, 180_000);
    await waitFor(/vagrant1\s+vagrant\s+vagrant,cpu\s+stopped/, 5_000);
  }, 240_000);

  it('destroys it through the confirm dialog, typing the provider for its last host', async () => {
    await keys('d');
    const dialog = await waitFor(/Destroy vagrant1\?/, 10_000);
    expect(dialog).toContain('vagrant1 (vagrant, stopped): the machine and its disk are deleted');
    expect(dialog).toContain('that is every vagrant host');
    expect(dialog).toContain('Type vagrant to enable Destroy');
    await keys('Right', 'Enter');
    expect(await screen()).toContain('Destroy vagrant1?');
    await typeText('vagrant');
    await waitFor(/Type vagrant to enable Destroy: vagrant▏/, 10_000);
    await keys('Enter');
    await waitFor(/✓ destroy vagrant1: destroyed vagrant1/, 180_000);
    await waitFor(/no hosts — press u to bring one up/, 10_000);
    expect(await projectContainers(project)).toEqual([]);
  }, 240_000);

  it('quits with q and leaves the terminal as it was: main screen, cursor shown', async () => {
    await keys('q');
    const shown = await waitFor(/PCC-EXIT=0/, 20_000);
    expect(shown).toContain('BEFORE-PCC');
    expect(shown).not.toContain('1 Hosts');
    expect(await pane('#{alternate_on} #{cursor_flag}')).toBe('0 1');
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
    ['SIGINT', 130],
  ] as const)('gives the terminal back when killed by %s', async (signal, code) => {
    await tmux('send-keys', '-t', 'tui', `clear && echo BEFORE-${signal} && node ${PCC_BIN}; echo ${signal}-EXIT=$?`, 'Enter');
    await waitFor(/no hosts — press u to bring one up/, 30_000);
    expect(await pane('#{alternate_on}')).toBe('1');
    const shell = await pane('#{pane_pid}');
    const child = (await execa('pgrep', ['-P', shell, 'node'])).stdout.trim();
    process.kill(Number(child), signal);
    const shown = await waitFor(new RegExp(`${signal}-EXIT=${code}`), 20_000);
    expect(shown).toContain(`BEFORE-${signal}`);
    expect(shown).not.toContain('1 Hosts');
    expect(await pane('#{alternate_on} #{cursor_flag}')).toBe('0 1');
  });
});
