// Warm runtimes: kfn-node-runtime processes started before any function needs them, as
// Fission's pool manager keeps generic pods. Each warms node's HTTP path and waits; a
// replica that runs kfn-node-runtime takes one and sends it its folder, environment and
// arguments instead of spawning. That takes fork, exec, node's own start and the slow
// first request of a fresh process out of a cold start.
import type { Logger } from '../../shared/log.js';
import type { LaunchSpec } from './launch.js';
import type { ProcessHandle, SpawnOptions } from './launcher.js';
import { lineSummary, logLine, parseLine, type OutputStream } from './output.js';

/** The command that can be served by a warm runtime: kfn's own, from the PATH the platform sets. */
export const NODE_RUNTIME = 'kfn-node-runtime';

/**
 * Read by node, libuv or OpenSSL when the process starts, so setting them later, as a warm
 * runtime's assignment does, would not work: a spec that sets one gets a fresh process.
 */
const START_TIME_ENV = [/^NODE_/, /^UV_/, /^OPENSSL_/, /^SSL_CERT_/, /^LC_/, /^LANG$/];

/** Whether a warm runtime can become a replica of `launch` exactly as a spawned one would be. */
export function fitsWarmRuntime(launch: Pick<LaunchSpec, 'command' | 'env'>): boolean {
  if (launch.command !== NODE_RUNTIME) return false;
  return Object.keys(launch.env).every((name) => !START_TIME_ENV.some((re) => re.test(name)));
}

/** A warm runtime handed to a replica: its process, its port, its output, and how to assign it. */
export interface WarmRuntime {
  readonly child: ProcessHandle;
  /**
   * The port it already listens on (answering 503 until assigned): the replica's port.
   * Connecting to it says nothing about readiness; its `listening` line does.
   */
  readonly port: number;
  /** Sends the runtime's output here from now on, instead of the pool's log. */
  attach(onLine: (line: string, stream: OutputStream) => void): void;
  /** Makes it the replica: the same arguments, folder and environment a spawn would get. */
  assign(args: string[], cwd: string, env: Record<string, string>): void;
}

/** A runtime in the pool, as `list()` shows it. */
export type WaitingRuntime = { pid: number; warm: true; port: number } | { pid: number; warm: false };

export interface WarmPoolOptions {
  /** Warm runtimes kept waiting. */
  size: number;
  /** Their environment until assigned (PATH resolves kfn-node-runtime). */
  env: Record<string, string>;
  /** Their folder until assigned. */
  cwd: string;
  /** A taken runtime is replaced this long after, so the replacement's start does not compete with the cold start it serves. */
  refillDelayMs: number;
  /** Runtimes that exit before they are warm, in a row, after which the pool stops trying. */
  maxFailures: number;
  log: Logger;
  /** Starts a runtime: the launcher's, so refilling never forks this process. */
  spawn(o: SpawnOptions): ProcessHandle;
}

interface Entry {
  child: ProcessHandle;
  warm: boolean;
  /** The port it holds, from its `warm` line. */
  port: number;
  onLine: (line: string, stream: OutputStream) => void;
  lastOutput?: string;
  onExit: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export class WarmPool {
  private readonly entries = new Set<Entry>();
  private refillTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;

  constructor(private readonly opts: WarmPoolOptions) {
    this.fill();
  }

  /** A warm runtime, or undefined when none is ready; the pool starts a replacement. */
  take(): WarmRuntime | undefined {
    for (const e of this.entries) {
      if (!e.warm || e.child.exitCode !== null || e.child.signalCode !== null) continue;
      this.entries.delete(e);
      e.child.off('exit', e.onExit);
      this.refillSoon();
      return {
        child: e.child,
        port: e.port,
        attach: (onLine) => (e.onLine = onLine),
        assign: (args, cwd, env) => e.child.write(JSON.stringify({ args, cwd, env }) + '\n', true),
      };
    }
    return undefined;
  }

  /** The runtimes waiting: warm (with the port each holds), or still warming. */
  list(): WaitingRuntime[] {
    return [...this.entries].flatMap((e) => (e.child.pid === undefined ? [] : [e.warm ? { pid: e.child.pid, warm: true, port: e.port } : { pid: e.child.pid, warm: false }]));
  }

  /** Stops the waiting runtimes and resolves when they are gone. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.refillTimer) clearTimeout(this.refillTimer);
    const exits = [...this.entries].map((e) => {
      if (e.child.exitCode !== null || e.child.signalCode !== null) return Promise.resolve();
      const gone = new Promise<void>((resolve) => e.child.once('close', () => resolve()));
      e.child.kill('SIGTERM');
      return gone;
    });
    await Promise.all(exits);
  }

  /** Last resort when the platform's own process exits: synchronous. */
  killNow(): void {
    for (const e of this.entries) e.child.killNow();
  }

  private refillSoon(): void {
    if (this.closed || this.refillTimer) return;
    this.refillTimer = setTimeout(() => {
      this.refillTimer = undefined;
      this.fill();
    }, this.opts.refillDelayMs);
  }

  private fill(): void {
    while (!this.closed && this.entries.size < this.opts.size && this.failures < this.opts.maxFailures) {
      if (!this.start()) return;
    }
  }

  private start(): boolean {
    // Its pipes are ours: the assignment and the `listening` line are on a cold start's
    // path, and go straight between it and this process, not through the launcher. It
    // writes nothing before they are handed over: it boots node and warms up first.
    const child = this.opts.spawn({
      command: NODE_RUNTIME,
      args: [],
      cwd: this.opts.cwd,
      env: { ...this.opts.env, KFN_RUNTIME_POOL: '1' },
      stdin: true,
      pipesToParent: true,
    });
    const entry: Entry = {
      child,
      warm: false,
      port: 0,
      onLine: (line, stream) => this.onPoolLine(entry, line, stream),
      onExit: (code, signal) => this.onExit(entry, code, signal),
    };
    this.entries.add(entry);
    child.on('error', (err) => {
      if (child.pid === undefined) this.onExit(entry, null, null, `cannot start ${NODE_RUNTIME}: ${err.message}`);
    });
    child.once('exit', entry.onExit);
    child.on('line', (l, stream) => entry.onLine(l, stream));
    return true;
  }

  private onPoolLine(e: Entry, line: string, stream: OutputStream): void {
    const parsed = parseLine(line, stream);
    e.lastOutput = lineSummary(parsed);
    if (parsed.msg === 'warm' && !e.warm) {
      const port = parsed.fields.port;
      if (typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536) {
        e.port = port;
        e.warm = true;
        this.failures = 0;
      } else {
        // Not a runtime we can use (a different kfn-node-runtime on PATH?): it counts as
        // one that died before warming.
        e.lastOutput = `its warm line named no port: ${line.slice(0, 200)}`;
        e.child.kill('SIGKILL');
      }
    }
    logLine(this.opts.log, { ...parsed, level: parsed.level === 'info' ? 'debug' : parsed.level });
  }

  private onExit(e: Entry, code: number | null, signal: NodeJS.Signals | null, spawnError?: string): void {
    if (!this.entries.delete(e)) return;
    if (this.closed) return;
    if (!e.warm) {
      this.failures++;
      if (this.failures >= this.opts.maxFailures) {
        this.failed(spawnError ?? `exited before warm (code ${code}, signal ${signal}): ${e.lastOutput ?? 'no output'}`);
        return;
      }
    }
    this.refillSoon();
  }

  private failed(why: string): void {
    this.failures = this.opts.maxFailures;
    this.opts.log.warn({ why }, 'warm runtimes unavailable: replicas start as fresh processes');
  }
}
