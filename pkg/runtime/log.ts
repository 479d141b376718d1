// The runtime's own logger: one JSON line per event, pino-compatible field names, and no
// dependencies, because every import here is paid for in cold-start time. Errors go to
// stderr so a platform can show the last one when a replica fails to start.

export type Level = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

const RANK: Record<Level, number> = { debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

export interface RuntimeLog {
  (level: Level, msg: string, fields?: Record<string, unknown>): void;
}

export function newRuntimeLog(minLevel: string | undefined): RuntimeLog {
  // Whoever reads our output may be gone (a platform killed hard, `| head`); losing log
  // lines then is better than crashing while requests are in flight.
  process.stdout.on('error', ignore);
  process.stderr.on('error', ignore);
  const min = RANK[(minLevel ?? 'info') as Level] ?? RANK.info;
  return (level, msg, fields) => {
    if (RANK[level] < min) return;
    const line = JSON.stringify({ level, time: Date.now(), msg, ...fields }) + '\n';
    // Pipes and files are written synchronously on Linux, so a line written just before
    // process.exit() is not lost.
    if (RANK[level] >= RANK.error) process.stderr.write(line);
    else process.stdout.write(line);
  };
}

/** pino's shape for an error, so platform logs keep type, message and stack apart. */
export function errorFields(err: unknown): { err: { type: string; message: string; stack?: string } } {
  if (err instanceof Error) return { err: { type: err.name, message: err.message, stack: err.stack } };
  return { err: { type: typeof err, message: String(err) } };
}

function ignore(): void {}
