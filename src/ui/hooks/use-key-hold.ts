import { useRef } from 'react';

/** Whether a dialog or the log filter has the keys; while held, the keymap's commands do not run. */
export interface KeyHold {
  isHeld(): boolean;
  hold(held: boolean): void;
}

/**
 * Taken at once, so the next key already goes to the dialog or the filter; given back only after the
 * key being handled reached every listener, so the key that closes a dialog (q closes the help) never
 * also runs a command.
 */
export function useKeyHold(): KeyHold {
  const held = useRef(false);
  const wanted = useRef(false);
  return {
    isHeld: () => held.current,
    hold: (next: boolean) => {
      wanted.current = next;
      if (next) held.current = true;
      else setImmediate(() => (held.current = wanted.current));
    },
  };
}
