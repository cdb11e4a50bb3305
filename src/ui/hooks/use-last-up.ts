import { useEffect, useState } from 'react';
import type { Engine } from '../../engine/engine.js';
import type { UserPreferences } from '../../engine/preferences.js';
import type { UpChoice } from '../dialogs/up-menu.js';

/** Where the bring-up menu starts: the last bring-up, kept in the user's preferences. */
export function useLastUp(engine: Engine, preferences: UserPreferences): [UpChoice | undefined, (choice: UpChoice) => void] {
  const [lastUp, setLastUp] = useState<UpChoice | undefined>();

  // The user's preferences load after the first frame: conf is slow to load. A bring-up made meanwhile wins.
  useEffect(() => {
    preferences.lastUp().then(
      (last) => setLastUp((current) => current ?? last),
      (error: unknown) => engine.events.emit({ type: 'log', level: 'warn', message: `reading your preferences: ${(error as Error).message}` }),
    );
  }, [engine, preferences]);

  const rememberUp = (choice: UpChoice) => {
    setLastUp(choice);
    void preferences.rememberUp(choice);
  };
  return [lastUp, rememberUp];
}
