import type { SetupStep, StepPlan } from './step.js';
import { unsupportedOs } from './step.js';

/** Idle stop (IDLE_STOP_MINUTES): a systemd timer on the host powers it off when nothing used it that long. */
export const idleStop: SetupStep = {
  id: 'idle-stop',
  removal: { inputs: () => ({}) },
  title: 'Idle stop',
  inputs: ({ settings }) => ({
    IDLE_MINUTES: settings.idleStop.minutes === undefined ? '' : String(settings.idleStop.minutes),
    GPU_PERCENT: String(settings.idleStop.gpuPercent),
    MINUTE_SECONDS: String(settings.idleStop.minuteSeconds),
  }),
  plan(facts, { settings }): StepPlan {
    const unsupported = unsupportedOs(facts);
    if (unsupported) return unsupported;
    const { minutes } = settings.idleStop;
    if (minutes === undefined) {
      return facts.files === 'absent' ? { kind: 'unchanged', note: 'off' } : { kind: 'change', changes: ['remove the idle stop timer (IDLE_STOP_MINUTES is unset)'], apply: {} };
    }
    if (facts.files === 'ok' && facts.timer === 'active/enabled') return { kind: 'unchanged', note: `after ${minutes} min idle` };
    return { kind: 'change', changes: [`power off after ${minutes} min with no SSH session, running container or busy GPU (pcc-idle-stop.timer)`], apply: {} };
  },
};
