// A replica's stdout and stderr as log lines: JSON lines (kfn-node-runtime, pino) are
// merged into the platform's logger with their level; anything else is logged as text.
import type { Readable } from 'node:stream';
import type { Logger } from '../../shared/log.js';

const MAX_LINE = 16 * 1024;

/** Calls `onLine` for every line of `stream`; over-long lines are cut, not buffered. */
export function forEachLine(stream: Readable, onLine: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  // A broken pipe ends the output; the process's exit is reported elsewhere.
  stream.on('error', () => {});
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line.length > 0) onLine(line.slice(0, MAX_LINE));
    }
    if (buf.length > MAX_LINE) {
      onLine(buf.slice(0, MAX_LINE));
      buf = '';
    }
  });
  stream.on('end', () => {
    if (buf.length > 0) onLine(buf);
    buf = '';
  });
}

export type OutputStream = 'stdout' | 'stderr';

export interface ParsedLine {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  msg: string;
  fields: Record<string, unknown>;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
const PINO_LEVELS: Record<number, ParsedLine['level']> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export function parseLine(line: string, stream: OutputStream): ParsedLine {
  if (line.startsWith('{')) {
    try {
      const obj = JSON.parse(line) as unknown;
      if (typeof obj === 'object' && obj !== null && !Array.isArray(obj)) {
        const { level, msg, time: _time, ...fields } = obj as Record<string, unknown>;
        return { level: toLevel(level, stream), msg: typeof msg === 'string' ? msg : '', fields };
      }
    } catch {
      // Not JSON after all: logged as text below.
    }
  }
  return { level: stream === 'stderr' ? 'warn' : 'info', msg: line, fields: { stream } };
}

function toLevel(level: unknown, stream: OutputStream): ParsedLine['level'] {
  if (typeof level === 'number') return PINO_LEVELS[level] ?? 'info';
  if (typeof level === 'string' && (LEVELS as readonly string[]).includes(level)) return level as ParsedLine['level'];
  return stream === 'stderr' ? 'warn' : 'info';
}

/** What a person would want to see of a line in a failure message. */
export function lineSummary(p: ParsedLine): string {
  const err = p.fields.err;
  const errMessage = typeof err === 'object' && err !== null ? (err as { message?: unknown }).message : undefined;
  if (typeof errMessage === 'string' && !p.msg.includes(errMessage)) return `${p.msg}: ${errMessage}`;
  return p.msg;
}

export function logLine(log: Logger, p: ParsedLine): void {
  log[p.level](p.fields, p.msg);
}
