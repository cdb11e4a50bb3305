import { render } from 'ink-testing-library';
import { describe, expect, it, vi } from 'vitest';
import { ConfirmDialog } from '../../src/ui/dialogs/confirm.js';
import { HelpOverlay } from '../../src/ui/dialogs/help.js';
import { checkRunForm, RunForm } from '../../src/ui/dialogs/run-form.js';
import { UpMenu } from '../../src/ui/dialogs/up-menu.js';
import { KEYMAP, keyLabel } from '../../src/ui/keymap.js';

const KEYS = { enter: '\r', escape: '\x1b', right: '\x1b[C', left: '\x1b[D', down: '\x1b[B', up: '\x1b[A', tab: '\t', shiftTab: '\x1b[Z', backspace: '\x7f' };
// The test stdin holds one write until Ink reads it: give each key time to be read and rendered.
const tick = () => new Promise((resolve) => setTimeout(resolve, 80));

async function type(stdin: { write(data: string): void }, ...keys: string[]) {
  for (const key of keys) {
    stdin.write(key);
    await tick();
  }
}

function confirm(typed?: string) {
  const onConfirm = vi.fn();
  const onCancel = vi.fn();
  const app = render(
    <ConfirmDialog
      title="Destroy vagrant?"
      lines={['vagrant1 (vagrant, running): the machine and its disk are deleted', 'that is every vagrant host']}
      action="Destroy"
      {...(typed ? { typed } : {})}
      onConfirm={onConfirm}
      onCancel={onCancel}
      width={90}
    />,
  );
  return { ...app, onConfirm, onCancel };
}

describe('confirm dialog', () => {
  it('lists what will happen and starts on Cancel: Enter cancels', async () => {
    const dialog = confirm();
    const frame = dialog.lastFrame() ?? '';
    expect(frame).toContain('Destroy vagrant?');
    expect(frame).toContain('• vagrant1 (vagrant, running): the machine and its disk are deleted');
    expect(frame).toContain('• that is every vagrant host');
    await type(dialog.stdin, KEYS.enter);
    expect(dialog.onCancel).toHaveBeenCalledOnce();
    expect(dialog.onConfirm).not.toHaveBeenCalled();
  });

  it('goes ahead only after moving to the action; Esc cancels', async () => {
    const dialog = confirm();
    await type(dialog.stdin, KEYS.right, KEYS.left, KEYS.enter);
    expect(dialog.onConfirm).not.toHaveBeenCalled();
    await type(dialog.stdin, KEYS.right, KEYS.enter);
    expect(dialog.onConfirm).toHaveBeenCalledOnce();
    const other = confirm();
    await type(other.stdin, KEYS.right, KEYS.escape);
    await vi.waitFor(() => expect(other.onCancel).toHaveBeenCalledOnce());
    expect(other.onConfirm).not.toHaveBeenCalled();
  });

  it("with a typed confirmation, the action stays disabled until the provider's name is typed exactly", async () => {
    const dialog = confirm('vagrant');
    await vi.waitFor(() => expect(dialog.lastFrame()).toContain('Type vagrant to enable Destroy:'));
    await type(dialog.stdin, KEYS.right, KEYS.enter);
    expect(dialog.onConfirm).not.toHaveBeenCalled();
    await type(dialog.stdin, 'v', 'a', 'g', 'r', 'a', 'n', 't', 'x', KEYS.enter);
    expect(dialog.onConfirm).not.toHaveBeenCalled();
    await vi.waitFor(() => expect(dialog.lastFrame()).toContain('vagrantx▏'));
    await type(dialog.stdin, KEYS.backspace, KEYS.enter);
    expect(dialog.onConfirm).toHaveBeenCalledOnce();
    expect(dialog.onCancel).not.toHaveBeenCalled();
  });

  it('typed letters that are keys elsewhere (q, d, j) only type', async () => {
    const dialog = confirm('qdj');
    await type(dialog.stdin, 'q', 'd', 'j');
    await vi.waitFor(() => expect(dialog.lastFrame()).toContain('qdj▏'));
    expect(dialog.onCancel).not.toHaveBeenCalled();
  });
});

describe('bring-up menu', () => {
  it('asks provider, machine type, count and whether to set them up, in turn', async () => {
    const onChoose = vi.fn();
    const menu = render(<UpMenu providers={['vagrant']} last={undefined} onChoose={onChoose} onCancel={vi.fn()} width={80} />);
    expect(menu.lastFrame()).toContain('Provider:');
    await type(menu.stdin, KEYS.enter);
    await vi.waitFor(() => expect(menu.lastFrame()).toContain('Machine type (vagrant):'));
    await type(menu.stdin, 'j', KEYS.enter);
    await vi.waitFor(() => expect(menu.lastFrame()).toContain('How many gpu machines (vagrant)?'));
    await type(menu.stdin, KEYS.down, KEYS.enter);
    await vi.waitFor(() => expect(menu.lastFrame()).toContain('Set them up once they run'));
    expect(menu.lastFrame()).toMatch(/❯ yes — bring up and set up/);
    await type(menu.stdin, KEYS.enter);
    expect(onChoose).toHaveBeenCalledWith({ provider: 'vagrant', computeType: 'gpu', count: 2, setup: true });
  });

  it('starts each menu on the last bring-up, so Enter four times repeats it', async () => {
    const onChoose = vi.fn();
    const last = { provider: 'ec2', computeType: 'gpu', count: 4, setup: false } as const;
    const menu = render(<UpMenu providers={['vagrant', 'ec2']} last={last} onChoose={onChoose} onCancel={vi.fn()} width={80} />);
    expect(menu.lastFrame()).toMatch(/❯ ec2/);
    await type(menu.stdin, KEYS.enter);
    await vi.waitFor(() => expect(menu.lastFrame()).toMatch(/❯ gpu/));
    await type(menu.stdin, KEYS.enter);
    await vi.waitFor(() => expect(menu.lastFrame()).toMatch(/❯ 4/));
    await type(menu.stdin, KEYS.enter);
    await vi.waitFor(() => expect(menu.lastFrame()).toMatch(/❯ no — only bring up/));
    await type(menu.stdin, KEYS.enter);
    expect(onChoose).toHaveBeenCalledWith(last);
  });

  it('starts on the first item where the last choice is not offered', () => {
    const menu = render(<UpMenu providers={['vagrant']} last={{ provider: 'ec2', computeType: 'cpu', count: 5 }} onChoose={vi.fn()} onCancel={vi.fn()} width={80} />);
    expect(menu.lastFrame()).toMatch(/❯ vagrant/);
  });

  it('Esc cancels', async () => {
    const onCancel = vi.fn();
    const menu = render(<UpMenu providers={['vagrant']} last={undefined} onChoose={vi.fn()} onCancel={onCancel} width={80} />);
    await type(menu.stdin, KEYS.escape);
    await vi.waitFor(() => expect(onCancel).toHaveBeenCalledOnce());
  });
});

describe('run form', () => {
  function form() {
    const onRun = vi.fn();
    const onCancel = vi.fn();
    const app = render(<RunForm onRun={onRun} onCancel={onCancel} width={90} />);
    // A frame is drawn before its inputs take the keys with what it shows (their handlers follow as effects): a tick after it.
    const expectFrame = async (text: string | RegExp) => {
      await vi.waitFor(() => expect(app.lastFrame()).toMatch(text));
      await tick();
    };
    /** Waits until `label`'s field takes the keys, so what is typed next goes there. */
    const expectField = (label: string) => expectFrame(`› ${label}:`);
    return { ...app, onRun, onCancel, expectFrame, expectField };
  }

  it('checks the fields: an image is needed, replicas are a whole number of 1 or more, an empty pattern is every compute host', () => {
    expect(checkRunForm({ image: '  ', pattern: '', replicas: '1' })).toMatchObject({ ok: false, field: 'image', problem: expect.stringContaining('Image: name an image of the registry') });
    for (const replicas of ['0', '', '-1', '2.5', 'two', '1e3']) {
      expect(checkRunForm({ image: 'analysis', pattern: '', replicas })).toEqual({ ok: false, field: 'replicas', problem: `Replicas: "${replicas}" is not a whole number of 1 or more` });
    }
    expect(checkRunForm({ image: ' analysis:v2 ', pattern: '', replicas: ' 12 ' })).toEqual({ ok: true, choice: { image: 'analysis:v2', pattern: undefined, replicas: 12 } });
    expect(checkRunForm({ image: 'analysis', pattern: 'gpu,vagrant1', replicas: '1' })).toEqual({ ok: true, choice: { image: 'analysis', pattern: 'gpu,vagrant1', replicas: 1 } });
  });

  it('starts on the image, with one replica on every compute host: an image and Enter run it', async () => {
    const run = form();
    expect(run.lastFrame()).toContain('› Image:');
    expect(run.lastFrame()).toMatch(/Replicas: 1/);
    expect(run.lastFrame()).toContain('every compute host');
    await type(run.stdin, 'analysis');
    await run.expectFrame('Image:    analysis');
    await type(run.stdin, KEYS.enter);
    await vi.waitFor(() => expect(run.onRun).toHaveBeenCalledWith({ image: 'analysis', pattern: undefined, replicas: 1 }));
  });

  it('says what is wrong, in the field to fix, and submits image, pattern and replicas once they are right', async () => {
    const run = form();
    await type(run.stdin, KEYS.enter);
    await run.expectFrame('Image: name an image of the registry');
    await type(run.stdin, 'analysis:v2', KEYS.tab);
    await run.expectField('Hosts');
    await type(run.stdin, 'gpu', KEYS.down);
    await run.expectField('Replicas');
    // ink-text-input edits the value it last drew: each key waits for the one before it to show.
    await type(run.stdin, KEYS.backspace);
    await run.expectFrame(/Replicas:\s*║/);
    await type(run.stdin, '0');
    await run.expectFrame(/Replicas: 0/);
    await type(run.stdin, KEYS.enter);
    await vi.waitFor(() => expect(run.lastFrame()).toContain('Replicas: "0" is not a whole number of 1 or more'));
    expect(run.onRun).not.toHaveBeenCalled();
    // The replicas field still has the keys: what is typed goes there.
    await run.expectField('Replicas');
    await type(run.stdin, KEYS.backspace);
    await run.expectFrame(/Replicas:\s*║/);
    await type(run.stdin, '3');
    await run.expectFrame(/Replicas: 3/);
    await type(run.stdin, KEYS.enter);
    await vi.waitFor(() => expect(run.onRun).toHaveBeenCalledWith({ image: 'analysis:v2', pattern: 'gpu', replicas: 3 }));
    expect(run.onRun).toHaveBeenCalledOnce();
  });

  it('moves back with ↑ and Shift+Tab, and forward past the last field to the first', async () => {
    const run = form();
    await type(run.stdin, KEYS.up);
    await run.expectField('Replicas');
    await type(run.stdin, '4', KEYS.shiftTab);
    await run.expectField('Hosts');
    await type(run.stdin, 'vagrant*', KEYS.tab);
    await run.expectField('Replicas');
    await type(run.stdin, KEYS.tab);
    await run.expectField('Image');
    await type(run.stdin, 'base');
    await run.expectFrame('Image:    base');
    await type(run.stdin, KEYS.enter);
    await vi.waitFor(() => expect(run.onRun).toHaveBeenCalledWith({ image: 'base', pattern: 'vagrant*', replicas: 14 }));
  });

  it('Esc cancels', async () => {
    const run = form();
    await type(run.stdin, 'analysis', KEYS.escape);
    await vi.waitFor(() => expect(run.onCancel).toHaveBeenCalledOnce());
    expect(run.onRun).not.toHaveBeenCalled();
  });
});

describe('help overlay', () => {
  it('lists every key of the keymap with what it does', () => {
    const frame = render(<HelpOverlay onClose={vi.fn()} width={100} />).lastFrame() ?? '';
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    for (const binding of KEYMAP) {
      expect(frame).toMatch(new RegExp(`${escape(binding.keys.map(keyLabel).join(' / '))} +${escape(binding.description)}`));
    }
    expect(frame).toContain('Dialogs: ←/→ choose, Enter confirms, Esc cancels');
  });

  it('closes on ? and on Esc', async () => {
    const onClose = vi.fn();
    const help = render(<HelpOverlay onClose={onClose} width={120} />);
    await type(help.stdin, '?');
    expect(onClose).toHaveBeenCalledOnce();
    await type(help.stdin, KEYS.escape);
    await vi.waitFor(() => expect(onClose).toHaveBeenCalledTimes(2));
  });
});
