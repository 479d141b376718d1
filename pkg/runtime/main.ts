// kfn-node-runtime <handler-module>: serves a function module on $PORT.
// Imports only node built-ins and its own small files: the benchmark measures cold start,
// and every module loaded here is paid for by every replica.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pickHandler } from './handler.js';
import { errorFields, newRuntimeLog } from './log.js';
import { createRuntimeServer } from './server.js';
import { become, readAssignment, reservePort, servesOnReserved, warmUp, type ReservedPort } from './warm.js';

/**
 * A warm runtime of the local platform's pool waits here, holding a port, until it is
 * told which replica to become. Returns when this replica's own start began
 * (performance.now()) and the port it holds.
 */
async function waitForAssignment(): Promise<{ assignedAt: number; reserved: ReservedPort }> {
  const poolLog = newRuntimeLog(process.env.KFN_LOG_LEVEL);
  // Nothing to drain yet: a signal ends a waiting runtime at once. Ctrl-C is the
  // platform's business, as for replicas; if the platform dies, stdin ends.
  const quit = (): never => process.exit(0);
  const ignore = (): void => {};
  process.on('SIGTERM', quit);
  process.on('SIGINT', ignore);
  await warmUp();
  let reserved;
  try {
    reserved = await reservePort(process.env.KFN_HOST ?? '');
  } catch (err) {
    poolLog('fatal', `cannot reserve a port: ${(err as Error).message}`, errorFields(err));
    process.exit(1);
  }
  poolLog('info', 'warm', { pid: process.pid, port: reserved.port, warmAfterMs: round(performance.now()) });
  let assignment;
  try {
    assignment = await readAssignment(process.stdin);
  } catch (err) {
    // The platform let us go (its stdin closed) or sent something we cannot use.
    poolLog('info', `not assigned: ${(err as Error).message}`);
    process.exit(0);
  }
  const assignedAt = performance.now();
  try {
    become(assignment);
  } catch (err) {
    poolLog('fatal', `cannot become the replica: ${(err as Error).message}`, errorFields(err));
    process.exit(1);
  }
  process.off('SIGTERM', quit);
  process.off('SIGINT', ignore);
  return { assignedAt, reserved };
}

// When this replica's own start began (node's start, or a warm runtime's assignment), and
// the port a warm runtime holds.
const { assignedAt: startedAt, reserved } = process.env.KFN_RUNTIME_POOL === '1' ? await waitForAssignment() : { assignedAt: 0, reserved: undefined };
const log = newRuntimeLog(process.env.KFN_LOG_LEVEL);

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function envInt(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return process.env[name] !== undefined && Number.isFinite(v) && v >= 0 ? v : fallback;
}

const modulePath = process.argv[2];
if (!modulePath) {
  log('fatal', 'usage: kfn-node-runtime <handler-module>');
  process.exit(2);
}

let mod: Record<string, unknown>;
try {
  mod = (await import(pathToFileURL(resolve(modulePath)).href)) as Record<string, unknown>;
} catch (err) {
  log('fatal', `cannot load handler module ${modulePath}: ${(err as Error).message}`, errorFields(err));
  process.exit(1);
}
const handler = pickHandler(mod);
if (!handler) {
  log('fatal', `handler module ${modulePath} exports neither a default function nor raw(req, res)`);
  process.exit(1);
}

const port = envInt('PORT', 8080);
const host = process.env.KFN_HOST || undefined;
// A warm runtime assigned the port it holds serves there as it is; else it lets that go.
const onReserved = reserved !== undefined && servesOnReserved(reserved, process.env);
if (reserved && !onReserved) reserved.server.close();
const runtime = createRuntimeServer({
  handler,
  log,
  maxBodyBytes: envInt('KFN_MAX_BODY_BYTES', 32 * 1024 * 1024),
  ...(onReserved ? { server: reserved.server } : {}),
});
runtime.server.on('error', (err) => {
  log('fatal', `cannot listen on port ${port}: ${err.message}`, errorFields(err));
  process.exit(1);
});
const listening = (): void => {
  const addr = runtime.server.address();
  log('info', 'listening', {
    port: typeof addr === 'object' && addr ? addr.port : port,
    handler: modulePath,
    form: handler.form,
    pid: process.pid,
    // From node's own start (a warm runtime's: from its assignment), so a benchmark can
    // tell the replica's start-up apart from the platform's share of a cold start; epoch
    // ms, sub-ms, comparable across processes.
    listeningAfterMs: round(performance.now() - startedAt),
    startedAt: round(performance.timeOrigin + startedAt),
    listeningAt: round(performance.timeOrigin + performance.now()),
    ...(startedAt > 0 ? { warm: true } : {}),
  });
};
if (onReserved) listening();
else runtime.server.listen(port, host, listening);

// Only the same signal twice means "stop now": Ctrl-C reaches the whole process group,
// and a supervisor may follow it with SIGTERM while the drain is under way.
const received = new Set<string>();
function shutdown(signal: string): void {
  if (received.has(signal)) {
    log('warn', `second ${signal}: exiting with ${runtime.inFlight()} requests in flight`);
    process.exit(1);
  }
  received.add(signal);
  if (received.size > 1) return;
  const timeoutMs = envInt('KFN_DRAIN_TIMEOUT_MS', 30_000);
  // Closed to new connections before anyone reads that we are draining.
  const drained = runtime.drain(timeoutMs);
  log('info', 'draining', { signal, inFlight: runtime.inFlight(), timeoutMs });
  void drained.then((outcome) => {
    if (outcome === 'drained') {
      log('info', 'drained');
      process.exit(0);
    }
    log('warn', `drain timed out after ${timeoutMs} ms with ${runtime.inFlight()} requests in flight`);
    process.exit(1);
  });
}
process.on('SIGTERM', () => shutdown('SIGTERM'));

// Set by the local platform (`kfn dev`), which runs replicas in its own process group.
// It drains them itself, endpoints first, so Ctrl-C in its terminal is its business;
// and if it dies without a chance to clean up (SIGKILL), its replicas go too.
const parentPid = Number(process.env.KFN_PARENT_PID);
if (parentPid > 0) {
  process.on('SIGINT', () => {});
  const watch = setInterval(() => {
    if (process.ppid === parentPid) return;
    clearInterval(watch);
    shutdown('parent exited');
  }, 1000).unref();
} else {
  process.on('SIGINT', () => shutdown('SIGINT'));
}
