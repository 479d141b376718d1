// Flags of the component binaries: one table per binary (name → meaning and default)
// that both the parser and --help read, so the two cannot drift; every flag falls back
// to its KFN_<FLAG> env variable, then to its default. Typed readers over the values
// refuse a bad value with an error that names the flag and shows what it wants.
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { parseDuration } from './duration.js';

export type FlagValues = Record<string, string | boolean | undefined>;

export interface FlagSpec {
  /** One line for --help: what the flag sets. */
  help: string;
  /** Taken when neither the flag nor its env variable is set; shown by --help. */
  default?: string;
  /** For --help when the fallback is not a fixed value ("the pod name"). */
  defaultText?: string;
}

export type FlagTable = Readonly<Record<string, FlagSpec>>;

/** `--stable-window` falls back to KFN_STABLE_WINDOW. */
export function envNameOf(flag: string): string {
  return `KFN_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** A command line the binary cannot run with: its message is the one line to print. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ParsedFlags {
  /** --help or -h was given: print the usage, do nothing else. */
  help: boolean;
  /** Every flag of the table: the flag, else its env variable, else its default. */
  values: FlagValues;
}

/**
 * Parses `argv` against `table`. Throws a UsageError for an unknown flag, a flag without
 * its value, or a stray argument: node's own messages run to three lines and name
 * options in their syntax, ours are one line that names the flag.
 */
export function parseFlags(argv: readonly string[], table: FlagTable, env: NodeJS.ProcessEnv = process.env): ParsedFlags {
  const options: Record<string, { type: 'string' } | { type: 'boolean'; short: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const name of Object.keys(table)) options[name] = { type: 'string' };
  let parsed: FlagValues;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError(usageProblem(err), { cause: err });
  }
  const values: FlagValues = {};
  for (const [name, spec] of Object.entries(table)) {
    const v = parsed[name];
    const fromEnv = env[envNameOf(name)];
    values[name] = typeof v === 'string' ? v : fromEnv !== undefined && fromEnv !== '' ? fromEnv : spec.default;
  }
  return { help: parsed.help === true, values };
}

function usageProblem(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
  // node quotes "'--port <value>'" or "'-h, --help'": the long name is the one to show.
  const names = quoted.split(/[ ,]+/).filter((p) => p.startsWith('-'));
  const flag = names.find((p) => p.startsWith('--')) ?? names[0] ?? quoted;
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${flag}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${quoted}": every setting is a --flag`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      // A boolean given a value (--help=x), or a string flag given none (--port, or --port --tick 1).
      return flag === '--help' ? `${flag}: takes no value` : `${flag}: want a value (--flag value or --flag=value)`;
    default:
      return message.split('\n')[0] ?? message;
  }
}

/** --help: every flag with its env variable, its default and what it sets. */
export function usageText(command: string, summary: string, table: FlagTable): string {
  const rows = Object.entries(table).map(([name, spec]) => {
    const fallback = spec.default !== undefined ? `default ${spec.default === '' ? '""' : spec.default}` : spec.defaultText ? `default: ${spec.defaultText}` : 'no default';
    return `  --${name} <value>\n      ${spec.help}\n      env ${envNameOf(name)}; ${fallback}`;
  });
  return [
    `Usage: ${command} [flags]`,
    '',
    summary,
    '',
    'Flags (a flag wins over its env variable; an empty value counts as unset):',
    '  -h, --help',
    '      Print this and exit.',
    ...rows,
    '',
  ].join('\n');
}

/** A flag whose table entry has a default: undefined only when given empty (`--port=`). */
export function given<T>(name: string, v: T | undefined): T {
  if (v === undefined) throw new UsageError(`--${name}: want a value`);
  return v;
}

export interface FlagReader<K extends string> {
  /** The value, with '' read as unset. */
  str: (name: K) => string | undefined;
  int: (name: K, min: number) => number | undefined;
  /** Any finite number ≥ 0. */
  num: (name: K) => number | undefined;
  /** Milliseconds; 0 only when `allowZero`. */
  duration: (name: K, opts?: { allowZero?: boolean; example?: string }) => number | undefined;
  bool: (name: K) => boolean | undefined;
  /** A TCP port, 0 (pick one) to 65535. */
  port: (name: K) => number | undefined;
  /** An IP address to listen on: 0.0.0.0 is every IPv4 address, :: every IPv6 one (and IPv4 too where the OS maps it). */
  address: (name: K) => string | undefined;
  /** A URL with one of `schemes` ('http:'); with `list`, a comma-separated list of them (NATS servers). */
  url: (name: K, schemes: readonly string[], opts?: { list?: boolean }) => string | undefined;
}

export function flagReader<K extends string>(values: FlagValues): FlagReader<K> {
  const str = (name: K): string | undefined => {
    const v = values[name];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  return {
    str,
    int: (name, min) => {
      const v = str(name);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name}: want an integer >= ${min}, got "${v}"`);
      return n;
    },
    num: (name) => {
      const v = str(name);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name}: want a number >= 0, got "${v}"`);
      return n;
    },
    duration: (name, opts = {}) => {
      const v = str(name);
      if (v === undefined) return undefined;
      const ms = parseDuration(v);
      if (ms === undefined || (ms === 0 && !opts.allowZero)) throw new UsageError(`--${name}: want a duration such as ${opts.example ?? '30s'}, got "${v}"`);
      return ms;
    },
    bool: (name) => {
      const v = str(name);
      if (v === undefined) return undefined;
      if (v !== 'true' && v !== 'false') throw new UsageError(`--${name}: want true or false, got "${v}"`);
      return v === 'true';
    },
    port: (name) => {
      const v = str(name);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!/^\d+$/.test(v) || n > 65535) throw new UsageError(`--${name}: want a port number (0-65535), got "${v}"`);
      return n;
    },
    address: (name) => {
      const v = str(name);
      if (v === undefined) return undefined;
      if (isIP(v) === 0) throw new UsageError(`--${name}: want an IP address such as 0.0.0.0, 127.0.0.1 or ::, got "${v}"`);
      return v;
    },
    url: (name, schemes, opts = {}) => {
      const v = str(name);
      if (v === undefined) return undefined;
      const parts = opts.list ? v.split(',').map((p) => p.trim()) : [v];
      for (const part of parts) {
        let scheme: string;
        try {
          scheme = new URL(part).protocol;
        } catch {
          throw new UsageError(`--${name}: want a ${schemes.join(' or ')} URL, got "${v}"`);
        }
        if (!schemes.includes(scheme)) throw new UsageError(`--${name}: want a ${schemes.join(' or ')} URL, got "${v}"`);
      }
      return v;
    },
  };
}
