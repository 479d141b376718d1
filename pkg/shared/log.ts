// One pino logger per process, passed down as children with context
// (`log.child({ fn: 'default/hello' })`).
import { pino, type Logger } from 'pino';

export type { Logger };

export function newLogger(opts: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: opts.name ?? 'kfn',
    level: opts.level ?? process.env.KFN_LOG_LEVEL ?? 'info',
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** For tests and benchmarks: drops everything unless KFN_LOG_LEVEL asks for it. */
export function quietLogger(): Logger {
  return pino({ level: process.env.KFN_LOG_LEVEL ?? 'silent', base: undefined });
}
