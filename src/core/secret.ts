import { inspect } from 'node:util';

/**
 * A value that must never reach a log, a state file or an error message. Printing, JSON and
 * util.inspect all show a placeholder; only reveal() gives the value, at the one place that sends it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[secret]';
  }

  toJSON(): string {
    return '[secret]';
  }

  [inspect.custom](): string {
    return '[secret]';
  }
}
