import { useEffect, useState } from 'react';

const TICK_MS = 120;

/** The spinner's frame. It and the running build times tick only while something is in flight: idle costs nothing. */
export function useSpinnerTick(busy: boolean): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!busy) return;
    const timer = setInterval(() => setTick((value) => value + 1), TICK_MS);
    return () => clearInterval(timer);
  }, [busy]);
  return tick;
}
