/** One record of `vagrant ... --machine-readable`: `TIMESTAMP,TARGET,TYPE,DATA...`. */
export interface VagrantRecord {
  timestamp: number;
  target: string;
  type: string;
  data: string[];
}

/**
 * Parses Vagrant's machine-readable output. Commas inside data are written `%!(VAGRANT_COMMA)` and
 * newlines `\n` (backslash, n); both are restored. Lines that are not records are ignored.
 */
export function parseMachineReadable(output: string): VagrantRecord[] {
  const records: VagrantRecord[] = [];
  for (const line of output.split(/\r?\n/)) {
    const fields = line.split(',');
    if (fields.length < 3 || !/^\d+$/.test(fields[0] ?? '')) continue;
    const [timestamp, target, type, ...data] = fields;
    records.push({
      timestamp: Number(timestamp),
      target: target ?? '',
      type: type ?? '',
      data: data.map(unescapeField),
    });
  }
  return records;
}

function unescapeField(field: string): string {
  return field.replaceAll('%!(VAGRANT_COMMA)', ',').replaceAll('\\n', '\n').replaceAll('\\r', '\r');
}

/** Machine name → Vagrant's state id (running, poweroff, saved, not_created ...) from `vagrant status`. */
export function machineStates(records: VagrantRecord[]): Map<string, string> {
  const states = new Map<string, string>();
  for (const record of records) {
    if (record.type === 'state' && record.target && record.data[0]) states.set(record.target, record.data[0]);
  }
  return states;
}

/** The text of `error-exit` records, which is how Vagrant reports a failure in this format. */
export function errorMessages(records: VagrantRecord[]): string[] {
  return records.filter((record) => record.type === 'error-exit').map((record) => record.data.slice(1).join(',') || record.data.join(','));
}
