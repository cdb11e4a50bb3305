/** Sizes and ages as people read them, the same in the headless CLI and the terminal UI. */

/** 1234567 → "1.2 MB"; undefined (not counted) → "-". */
export function bytes(count: number | undefined): string {
  if (count === undefined) return '-';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = count;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** Seconds since something happened → "42 s", "5 min", "3 h"; undefined → "never". */
export function age(seconds: number | undefined): string {
  if (seconds === undefined) return 'never';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h`;
}
