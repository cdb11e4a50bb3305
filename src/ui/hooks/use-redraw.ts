import { useCallback, useState } from 'react';

/**
 * Re-renders the component on demand, for state React does not hold: the UI model and the job list
 * change in place, and each change is followed by one redraw.
 */
export function useRedraw(): () => void {
  const [, setVersion] = useState(0);
  return useCallback(() => setVersion((version) => version + 1), []);
}
