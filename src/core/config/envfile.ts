import dotenv from 'dotenv';
import { ConfigError } from '../errors.js';

/** One KEY=value assignment and where it was written. */
export interface EnvEntry {
  key: string;
  value: string;
  file: string;
  line: number;
}

const ASSIGNMENT = /^\s*(?:export\s+)?([^=\s#]+)\s*=(.*)$/;
const KEY_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const QUOTES = new Set(['"', "'", '`']);

/**
 * Parses a .env file into entries that remember their line. The value of every assignment is read
 * by dotenv (quoting, escapes and multi-line double quotes as dotenv defines them); this function adds
 * what dotenv leaves out for a config format: line numbers, and errors instead of silent guesses for
 * unterminated quotes, lines that are not assignments, bad key names and keys set twice.
 */
export function parseEnvFile(text: string, file: string): EnvEntry[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const entries: EnvEntry[] = [];
  const seen = new Map<string, number>();

  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index] ?? '';
    const lineNumber = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;

    const match = ASSIGNMENT.exec(raw);
    if (!match) {
      throw new ConfigError(
        `${file}:${lineNumber}: expected KEY=value, found "${truncate(trimmed)}"`,
        'Each line is an assignment like VARLIBDOCKER_GB=10, a comment starting with #, or blank.',
      );
    }
    const key = match[1] ?? '';
    if (!KEY_NAME.test(key)) {
      throw new ConfigError(
        `${file}:${lineNumber}: ${key}: not a valid key name`,
        'Key names use letters, digits and _ and do not start with a digit (e.g. REGISTRY_HOST).',
      );
    }

    const valueText = (match[2] ?? '').trimStart();
    let endIndex = index;
    const quote = valueText[0];
    if (quote !== undefined && QUOTES.has(quote)) {
      const closing = findClosingQuote(lines, index, raw.indexOf(valueText) + 1, quote);
      if (closing === undefined) {
        throw new ConfigError(
          `${file}:${lineNumber}: ${key}: unterminated quote (${quote}) in the value`,
          `Close the value with a matching ${quote}, or remove the opening one.`,
        );
      }
      if (closing.trailing) {
        throw new ConfigError(
          `${file}:${closing.line + 1}: ${key}: unexpected text after the closing quote: "${truncate(closing.trailing)}"`,
          'Only a comment starting with # may follow a quoted value.',
        );
      }
      endIndex = closing.line;
    } else {
      // dotenv ends an unquoted value at #: `abc#def` would silently become `abc`.
      const inWord = /\S#/.exec(valueText);
      if (inWord) {
        throw new ConfigError(
          `${file}:${lineNumber}: ${key}: a # inside an unquoted value starts a comment and cuts the value short`,
          `Quote the value: ${key}='${valueText.trim()}' (or put a space before # if the rest is a comment).`,
        );
      }
    }

    const previous = seen.get(key);
    if (previous !== undefined) {
      throw new ConfigError(
        `${file}:${lineNumber}: ${key} is set twice (first on line ${previous})`,
        'Keep one assignment per key in a file.',
      );
    }
    seen.set(key, lineNumber);

    const assignment = lines.slice(index, endIndex + 1).join('\n');
    const value = dotenv.parse(assignment.replace(/^\s*export\s+/, ''))[key] ?? '';
    entries.push({ key, value, file, line: lineNumber });
    index = endIndex;
  }
  return entries;
}

/**
 * Finds the line that closes a quoted value, and any text after the quote that is not a comment.
 * Only double quotes may span lines, as in dotenv.
 */
function findClosingQuote(
  lines: string[],
  startLine: number,
  startColumn: number,
  quote: string,
): { line: number; trailing: string } | undefined {
  for (let index = startLine; index < lines.length; index++) {
    const text = lines[index] ?? '';
    let column = index === startLine ? startColumn : 0;
    while (column < text.length) {
      const char = text[column];
      if (char === '\\' && quote === '"') {
        column += 2;
        continue;
      }
      if (char === quote) {
        const rest = text.slice(column + 1).trim();
        return { line: index, trailing: rest.startsWith('#') ? '' : rest };
      }
      column++;
    }
    if (quote !== '"') return undefined;
  }
  return undefined;
}

function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
