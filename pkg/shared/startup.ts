// The shared start-up of every entry in cmd/: config from flags and env, the logger,
// the /metrics + /healthz server, SIGTERM/SIGINT → abort, and an orderly shutdown.
// An entry's main() only lists what to construct and hands it to `runComponent`.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { parseFlags, usageText, type FlagTable } from './flags.js';
import { createHttpApp } from './http-app.js';
import { envelope } from './http-error.js';
import { newLogger, type Logger } from './log.js';
import { newRegistry } from './metrics.js';

export interface ComponentContext {
  log: Logger;
  metrics: Registry;
  signal: AbortSignal;
  /** Flipped by the component once it can serve; /healthz answers 503 until then. */
  setReady: (ready: boolean) => void;
}

export interface Component {
  /** Resolves when the component has stopped (after the signal aborted). */
  done: Promise<void>;
}

export interface ComponentOptions {
  name: string;
  /** Port of the /metrics + /healthz server; 0 = pick one, undefined = none. */
  metricsPort?: number;
  /** Address the /metrics + /healthz server listens on (default 0.0.0.0). */
  host?: string;
  start(ctx: ComponentContext): Promise<Component>;
}

export async function runComponent(opts: ComponentOptions): Promise<void> {
  const log = newLogger({ name: opts.name });
  const metrics = newRegistry({ processMetrics: true, labels: { component: opts.name } });
  const abort = new AbortController();
  let ready = false;
  const onSignal = (sig: string) => () => {
    log.info({ signal: sig }, 'shutting down');
    abort.abort();
  };
  process.once('SIGTERM', onSignal('SIGTERM'));
  process.once('SIGINT', onSignal('SIGINT'));

  const ops = buildOpsServer({ name: opts.name, log, metrics, ready: () => ready });
  if (opts.metricsPort !== undefined) {
    const addr = await ops.listen({ port: opts.metricsPort, host: opts.host ?? '0.0.0.0' });
    log.info({ addr }, 'metrics and health listening');
  }

  try {
    const component = await opts.start({ log, metrics, signal: abort.signal, setReady: (r) => (ready = r) });
    await component.done;
  } catch (err) {
    log.error({ err }, 'failed');
    process.exitCode = 1;
  } finally {
    abort.abort();
    await ops.close();
    log.info('stopped');
  }
}

export interface OpsDeps {
  name: string;
  log: Logger;
  metrics: Registry;
  ready: () => boolean;
}

/** Every component's /healthz (text "ok", or 503 with the envelope until ready) and /metrics. */
export function buildOpsServer(deps: OpsDeps): FastifyInstance {
  const ops = createHttpApp({ log: deps.log, routesHint: 'this server has GET /healthz and GET /metrics' });
  ops.get('/healthz', async (_req, reply) =>
    deps.ready() ? reply.type('text/plain').send('ok') : reply.code(503).send(envelope('not_ready', `${deps.name} is starting`)),
  );
  ops.get('/metrics', async (_req, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()));
  return ops;
}

export interface CommandLine<T> {
  /** The binary's name as a person types it: kfn-activator. */
  name: string;
  /** A line or two on what it is, for --help. */
  summary: string;
  /** Its flags: what the parser takes and --help lists. */
  flags: FlagTable;
  /** Builds the settings from the command line; a throw is a usage error. */
  settings: (argv: string[]) => T;
}

/**
 * The settings of a component binary from its command line, or undefined when it must
 * not start: with --help the usage went to stdout (exit 0); with a bad flag or value,
 * one line naming it went to stderr (exit 2, as Go's flag package and most CLIs do), no
 * stack trace and no log line, since nothing has started.
 */
export function settingsOrExit<T>(cmd: CommandLine<T>, argv: string[] = process.argv.slice(2)): T | undefined {
  try {
    if (parseFlags(argv, cmd.flags).help) {
      process.stdout.write(usageText(cmd.name, cmd.summary, cmd.flags));
      return undefined;
    }
    return cmd.settings(argv);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${cmd.name}: ${message.split('\n')[0] ?? message} (see ${cmd.name} --help)\n`);
    process.exitCode = 2;
    return undefined;
  }
}

/** Flags with env fallbacks: `--stable-window` falls back to KFN_STABLE_WINDOW. */
export function readFlags<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  const merged: Record<string, string | boolean | undefined> = {};
  for (const name of Object.keys(options)) {
    const env = process.env[`KFN_${name.toUpperCase().replaceAll('-', '_')}`];
    const v = (values as Record<string, string | boolean | undefined>)[name];
    merged[name] = v ?? env;
  }
  return { values: merged, positionals };
}
