import { render } from 'ink';
import { createEngine } from '../engine/engine.js';
import type { Config } from '../core/config/load.js';
import { UserPreferences } from '../engine/preferences.js';
import { AppContainer } from './app-container.js';
import { enterFullScreen } from './terminal.js';

/** Redraws at most this often; engine events are batched more finely (see EVENT_BATCH_MS). */
const MAX_FPS = 15;

/**
 * `pcc` in a terminal: builds the engine, takes over the screen and runs the UI until it quits.
 * Whatever else prints meanwhile goes to pcc's activity log (`.pcc/logs/pcc.log`).
 */
export async function openTerminalUi(config: Config, env: NodeJS.ProcessEnv): Promise<number> {
  const engine = createEngine(config, { env });
  const screen = enterFullScreen((stream, text) => {
    for (const line of text.split(/\r?\n/)) {
      if (line.trim()) engine.events.emit({ type: 'log', level: stream === 'stderr' ? 'warn' : 'info', message: line });
    }
  });
  const preferences = new UserPreferences(env, (message) => engine.events.emit({ type: 'log', level: 'warn', message }));
  try {
    const instance = render(<AppContainer engine={engine} preferences={preferences} />, {
      stdout: screen.stdout,
      exitOnCtrlC: false,
      patchConsole: false,
      maxFps: MAX_FPS,
    });
    await instance.waitUntilExit();
    return 0;
  } finally {
    engine.ssh.closeAll();
    screen.restore();
  }
}
