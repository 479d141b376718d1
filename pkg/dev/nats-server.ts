// The NATS server `kfn dev` runs when NATS_URL is not set: nats-server with JetStream on
// a free loopback port, its data under kfn's state folder so events survive a restart
// of kfn dev, supervised: restarted on the same port and store whenever it exits. A server
// left behind by a kfn dev that was killed is stopped first (kfn dev holds KFN_HOME's lock
// by then, so it cannot be another live kfn dev's): two servers must never share one store.
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdir, readFile, constants } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import path from 'node:path';
import { sleep } from '../shared/abort.js';
import { backoffDelay, type BackoffPolicy } from '../shared/backoff.js';
import type { Logger } from '../shared/log.js';
import { freePort } from '../platform/local/ports.js';

export const NATS_INSTALL_HINT =
  'install nats-server to use Triggers: `sudo apt-get install nats-server` (Debian/Ubuntu), ' +
  '`brew install nats-server` (macOS) or a release from https://github.com/nats-io/nats-server/releases; ' +
  'or point kfn dev at a running NATS with JetStream: NATS_URL=nats://host:4222 kfn dev';

export class NatsServerMissingError extends Error {
  constructor(where = 'on PATH') {
    super(`nats-server was not found ${where}; ${NATS_INSTALL_HINT}`);
    this.name = 'NatsServerMissingError';
  }
}

/** What the supervised nats-server is doing now. */
export type NatsServerState =
  | { type: 'running'; pid: number }
  /** It exited (`exit`: how) and is started again in `retryInMs`; `attempt` counts failures in a row. */
  | { type: 'restarting'; exit: string; attempt: number; retryInMs: number; since: Date }
  | { type: 'stopped' };

export interface EmbeddedNats {
  url: string;
  port: number;
  /** The running server's pid; undefined while it is being restarted. */
  readonly pid: number | undefined;
  readonly state: NatsServerState;
  /** Calls `listener` on every state change; returns the unsubscribe. */
  onState(listener: (s: NatsServerState) => void): () => void;
  /** Stops restarting, then SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface EmbeddedNatsOptions {
  /** Folder for the JetStream store and the pid file. */
  dir: string;
  host: string;
  log: Logger;
  /** The nats-server binary; default: found on PATH (or /usr/sbin). */
  bin?: string;
  readyTimeoutMs?: number;
  restartBackoff?: BackoffPolicy;
}

/** Restarts of a server that keeps dying: 250 ms, 500 ms, 1 s … up to 10 s apart. */
export const RESTART_BACKOFF: BackoffPolicy = { kind: 'exponential', baseMs: 250, maxMs: 10_000 };
/** A server that ran this long before it exited starts the backoff from its first step. */
export const STABLE_UPTIME_MS = 30_000;

/**
 * The next restart after an exit: `failures` is how many exits in a row came before this
 * one without the server staying up `STABLE_UPTIME_MS`. One that ran an hour and was
 * killed comes back at once (250 ms); one that dies at every start backs off to 10 s.
 */
export function nextRestart(policy: BackoffPolicy, failures: number, uptimeMs: number): { attempt: number; delayMs: number } {
  const attempt = uptimeMs >= STABLE_UPTIME_MS ? 1 : failures + 1;
  return { attempt, delayMs: backoffDelay(policy, attempt) };
}

/**
 * Starts nats-server and keeps it running: when it exits, for whatever reason, it is
 * started again on the same port and store, with backoff if it keeps dying, until stop().
 */
export async function startEmbeddedNats(opts: EmbeddedNatsOptions): Promise<EmbeddedNats> {
  const bin = opts.bin === undefined ? await findOnPath('nats-server') : await executable(opts.bin);
  if (!bin) throw new NatsServerMissingError(opts.bin === undefined ? 'on PATH' : `at ${opts.bin}`);
  const storeDir = path.join(opts.dir, 'jetstream');
  const pidFile = path.join(opts.dir, 'nats-server.pid');
  await mkdir(storeDir, { recursive: true });
  await stopLeftover(pidFile, opts.log);

  const port = await freePort(opts.host);
  const args = ['--jetstream', '--store_dir', storeDir, '--addr', opts.host, '--port', String(port), '--pid', pidFile];
  const readyTimeoutMs = opts.readyTimeoutMs ?? 20_000;
  let server = await launch(bin, args, opts.host, port, readyTimeoutMs);
  const url = `nats://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  opts.log.info({ url, pid: server.child.pid, storeDir }, 'nats-server started');

  let state: NatsServerState = { type: 'running', pid: server.child.pid ?? 0 };
  const listeners = new Set<(s: NatsServerState) => void>();
  const setState = (s: NatsServerState): void => {
    state = s;
    for (const l of listeners) l(s);
  };
  const stopping = new AbortController();
  const policy = opts.restartBackoff ?? RESTART_BACKOFF;

  const supervise = async (): Promise<void> => {
    let failures = 0;
    for (;;) {
      const startedAt = performance.now();
      const exit = await server.exited;
      if (stopping.signal.aborted) return;
      const next = nextRestart(policy, failures, performance.now() - startedAt);
      failures = next.attempt;
      let delayMs = next.delayMs;
      const since = new Date();
      opts.log.warn({ pid: server.child.pid, exit, attempt: next.attempt, restartInMs: delayMs, url }, 'nats-server exited; restarting it on the same port and store');
      setState({ type: 'restarting', exit, attempt: next.attempt, retryInMs: delayMs, since });
      for (;;) {
        await sleep(delayMs, stopping.signal);
        if (stopping.signal.aborted) return;
        try {
          server = await launch(bin, args, opts.host, port, readyTimeoutMs);
          break;
        } catch (err) {
          const retry = nextRestart(policy, failures, 0);
          failures = retry.attempt;
          delayMs = retry.delayMs;
          opts.log.error({ err, attempt: retry.attempt, restartInMs: delayMs, url }, 'nats-server did not start again; retrying');
          setState({ type: 'restarting', exit: (err as Error).message, attempt: retry.attempt, retryInMs: delayMs, since });
        }
      }
      // Stopped while it was starting: it must not outlive kfn dev.
      if (stopping.signal.aborted) return;
      opts.log.info({ url, pid: server.child.pid, attempt: failures }, 'nats-server restarted');
      setState({ type: 'running', pid: server.child.pid ?? 0 });
    }
  };
  const supervising = supervise().catch((err: unknown) => opts.log.error({ err }, 'nats-server supervision failed'));

  return {
    url,
    port,
    get pid() {
      return state.type === 'running' ? state.pid : undefined;
    },
    get state() {
      return state;
    },
    onState(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop(graceMs = 10_000) {
      stopping.abort();
      // The supervisor waits on this server's exit, or is starting a new one: end both.
      await terminate(server, graceMs);
      await supervising;
      await terminate(server, graceMs);
      setState({ type: 'stopped' });
    },
  };
}

interface Launched {
  child: ChildProcess;
  /** Resolves with how the process ended ("code 1", "signal SIGKILL") and its last output. */
  exited: Promise<string>;
}

/** Spawns nats-server and waits until it accepts connections; kills it and throws if it does not in time. */
async function launch(bin: string, args: string[], host: string, port: number, readyTimeoutMs: number): Promise<Launched> {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, sig) => resolve(sig ? `signal ${sig}` : `code ${code ?? '?'}${code ? `: ${lastLine(output)}` : ''}`)),
  );
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  const deadline = performance.now() + readyTimeoutMs;
  for (;;) {
    const failed = await Promise.race([spawnError, Promise.resolve(undefined)]);
    if (failed) throw new Error(`cannot start ${bin}: ${failed.message}`, { cause: failed });
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nats-server exited at start: ${output.trim()}`);
    // "Server is ready" comes once the client port listens and JetStream is up.
    if (output.includes('Server is ready') && (await accepts(host, port))) return { child, exited };
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`nats-server did not accept connections on ${host}:${port} in time: ${output.trim()}`);
    }
    await sleep(20);
  }
}

function lastLine(output: string): string {
  return output.trim().split('\n').pop() ?? '';
}

async function terminate(server: Launched, graceMs: number): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await server.exited;
  clearTimeout(timer);
}

/** Stops the nats-server a killed kfn dev left running on this store, if any. */
async function stopLeftover(pidFile: string, log: Logger): Promise<void> {
  let pid: number;
  try {
    pid = Number.parseInt(await readFile(pidFile, 'utf8'), 10);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !(await isNatsServer(pid))) return;
  log.warn({ pid }, 'stopping the nats-server an earlier kfn dev left running');
  signal(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
  if (alive(pid)) signal(pid, 'SIGKILL');
  for (let i = 0; i < 40 && alive(pid); i++) await sleep(50);
}

async function isNatsServer(pid: number): Promise<boolean> {
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.split('\0')[0]?.endsWith('nats-server') ?? false;
  } catch {
    // No /proc (macOS): trust the pid file only if the process exists.
    return alive(pid) && process.platform !== 'linux';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function findOnPath(name: string): Promise<string | undefined> {
  // Debian puts nats-server in /usr/sbin, which a non-root PATH often lacks.
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    const found = await executable(path.join(dir, name));
    if (found) return found;
  }
  return undefined;
}

async function executable(file: string): Promise<string | undefined> {
  try {
    await access(file, constants.X_OK);
    return file;
  } catch {
    return undefined;
  }
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
