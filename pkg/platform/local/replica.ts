// One replica: a process on its own port (started by the launcher), its output, and its
// readiness probe. It reports what happens to it; what to do about it is the workload's
// decision.
import { existsSync } from 'node:fs';
import type { Logger } from '../../shared/log.js';
import { deferred } from '../../shared/abort.js';
import type { LaunchSpec } from './launch.js';
import type { ProcessHandle, SpawnOptions } from './launcher.js';
import { lineSummary, logLine, parseLine, type OutputStream } from './output.js';
import { probeOnce } from './probe.js';
import { NODE_RUNTIME, type WarmRuntime } from './warm-pool.js';

export type ReplicaState = 'starting' | 'ready' | 'unready' | 'draining' | 'exited';

export interface ReplicaExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (command not found...). */
  spawnError?: string;
  /** Whether it ever passed its readiness probe. */
  wasReady: boolean;
  /** Whether the platform asked it to stop. */
  wasStopped: boolean;
  /** Its last line on stderr, else on stdout. */
  lastOutput?: string;
  /** It reported that its port was taken: worth an immediate retry on another port. */
  addressInUse: boolean;
}

/** Epoch milliseconds with sub-millisecond precision. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

export interface ReplicaTimes {
  /** Just before the launcher was asked to start it. */
  spawnedAt: number;
  /** How long asking took (a message to the launcher, which forks and execs), or handing a warm runtime its assignment. */
  spawnCallMs: number;
  /** A warm runtime became this replica: no spawn, and its own start began at its assignment. */
  warm: boolean;
  /** When the platform read the runtime's `listening` line. */
  listeningSeenAt?: number;
  /** From the runtime's own line: node's process start → listening. */
  listeningAfterMs?: number;
  /** From the runtime's own line, epoch ms: node's process start, and when it listened. */
  processStartedAt?: number;
  listeningAt?: number;
  readyAt?: number;
}

export interface ReplicaProbeTuning {
  /** Interval between probes while the replica starts. */
  startIntervalMs: number;
  /** How long to probe at `startIntervalMs` before backing off. */
  startFastMs: number;
  /** Longest interval between start probes after backing off. */
  startMaxIntervalMs: number;
}

export interface ReplicaEvents {
  onReady(r: ReplicaProcess): void;
  onUnready(r: ReplicaProcess): void;
  onExit(r: ReplicaProcess, exit: ReplicaExit): void;
  /**
   * Once it is ready and its `listening` line was read (or did not come within half a
   * second of ready: not every command prints one). The probe often wins the race
   * against the line, so this can come after onReady.
   */
  onTimes(r: ReplicaProcess): void;
}

const LISTENING_LINE_WAIT_MS = 500;

export interface ReplicaOptions {
  id: string;
  seq: number;
  revision: number;
  host: string;
  port: number;
  launch: LaunchSpec;
  env: Record<string, string>;
  log: Logger;
  probe: ReplicaProbeTuning;
  events: ReplicaEvents;
  /** Starts the process: the launcher's, so no fork runs in this process. */
  spawn(o: SpawnOptions): ProcessHandle;
  /** Become this warm runtime instead of spawning (only for a launch that fitsWarmRuntime). */
  warm?: WarmRuntime;
}

export class ReplicaProcess {
  readonly id: string;
  readonly seq: number;
  readonly revision: number;
  readonly host: string;
  readonly port: number;
  state: ReplicaState = 'starting';
  readonly times: ReplicaTimes;

  private readonly child: ProcessHandle;
  private readonly opts: ReplicaOptions;
  private readonly exited = deferred<void>();
  private lastStdout: string | undefined;
  private lastStderr: string | undefined;
  private addressInUse = false;
  private stopped = false;
  private everReady = false;

  private probeTimer: NodeJS.Timeout | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private timesTimer: NodeJS.Timeout | undefined;
  private timesReported = false;
  private probing = false;
  private probeNow = false;
  private probeInterval: number;
  private probeStartedAt: number | undefined;
  /** performance.now() at spawn (or assignment), the instant of times.spawnedAt: initial delays count from here. */
  private readonly startedMs: number;
  /**
   * TCP checks start at the runtime's `listening` line, not before. A warm runtime listens
   * before it is this replica (reservePort), so a connection to its port proves nothing
   * until then. A fresh kfn-node-runtime binds the port the platform picked (and let go):
   * until its line, a connection there may reach another process that took that port in
   * between (seen in a 100-function burst: a replica made ready by someone else's listener,
   * sent a request, then exiting with EADDRINUSE). Its line names the port it listens on.
   */
  private readonly tcpFromLine: boolean;
  private passes = 0;
  private failures = 0;

  constructor(opts: ReplicaOptions) {
    this.opts = opts;
    this.id = opts.id;
    this.seq = opts.seq;
    this.revision = opts.revision;
    this.host = opts.host;
    this.port = opts.port;
    const announces = opts.launch.command === NODE_RUNTIME;
    // kfn-node-runtime says when it listens, and that line triggers an httpGet check at
    // once: polling it every 2 ms as well only costs this process (100 replicas starting
    // together: 50,000 connects a second). It gets the slow interval, as a fallback.
    this.probeInterval = announces ? opts.probe.startMaxIntervalMs : opts.probe.startIntervalMs;
    this.tcpFromLine = opts.warm !== undefined || announces;

    const spawnedAt = preciseNow();
    this.startedMs = spawnedAt - performance.timeOrigin;
    const { warm, launch } = opts;
    if (warm) {
      this.child = warm.child;
      warm.attach((l, stream) => this.onOutput(l, stream));
      warm.assign(launch.args, launch.cwd, opts.env);
    } else {
      // Started by the launcher; `close()`, the exit hook of the platform, or the launcher
      // when we are gone kills what is left.
      this.child = opts.spawn({ command: launch.command, args: launch.args, cwd: launch.cwd, env: opts.env });
      this.child.on('line', (l, stream) => this.onOutput(l, stream));
    }
    this.times = { spawnedAt, spawnCallMs: preciseNow() - spawnedAt, warm: warm !== undefined };

    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    this.child.on('error', (err) => {
      // Only a failure to start ends the replica here; a failed kill() also lands here.
      if (this.child.pid === undefined) this.finish(null, null, spawnErrorMessage(err, opts.launch));
    });
    this.child.once('exit', (code, signal) => {
      [exitCode, exitSignal] = [code, signal];
      // Let the last lines arrive ('close'), but not forever: a grandchild may hold the
      // pipes open.
      this.closeTimer = setTimeout(() => this.finish(exitCode, exitSignal), 200);
    });
    this.child.once('close', () => this.finish(exitCode, exitSignal));

    const { readiness } = opts.launch;
    if (!(this.tcpFromLine && readiness.check.kind === 'tcp')) {
      // Probing starts once the process exists; the initial delay still counts from the request to start it.
      if (this.child.pid !== undefined) this.scheduleProbe(readiness.initialDelayMs);
      else {
        this.child.on('spawn', () => {
          if (this.live) this.scheduleProbe(readiness.initialDelayMs);
        });
      }
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get live(): boolean {
    return this.state !== 'draining' && this.state !== 'exited';
  }

  /**
   * Takes the replica out of service without signalling it yet, so the workload can
   * publish the endpoints without it before the process hears anything.
   */
  retire(): void {
    if (!this.live) return;
    this.state = 'draining';
    this.stopped = true;
    this.clearProbe();
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs: number): Promise<void> {
    this.retire();
    if (this.state === 'draining' && this.killTimer === undefined) {
      this.signal('SIGTERM');
      this.killTimer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    }
    return this.exited.promise;
  }

  /** Last resort when the platform's own process exits: synchronous, no drain. */
  killNow(): void {
    if (this.state !== 'exited') this.child.killNow();
  }

  private signal(sig: NodeJS.Signals): void {
    // Asked even before its pid is known: the launcher handles requests in order.
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(sig);
  }

  private onOutput(line: string, stream: OutputStream): void {
    const parsed = parseLine(line, stream);
    if (stream === 'stderr') this.lastStderr = lineSummary(parsed);
    else this.lastStdout = lineSummary(parsed);
    if (line.includes('EADDRINUSE')) this.addressInUse = true;
    if (parsed.msg === 'listening' && typeof parsed.fields.listeningAfterMs === 'number' && this.times.listeningSeenAt === undefined) {
      this.times.listeningSeenAt = preciseNow();
      this.times.listeningAfterMs = parsed.fields.listeningAfterMs;
      const { startedAt, listeningAt } = parsed.fields;
      if (typeof startedAt === 'number') this.times.processStartedAt = startedAt;
      if (typeof listeningAt === 'number') this.times.listeningAt = listeningAt;
      if (this.state === 'starting') this.onListening(parsed.fields.port);
      if (this.everReady) this.reportTimes();
    }
    logLine(this.opts.log, parsed);
  }

  /**
   * The runtime says it listens: a pass of a TCP check, else a reason to check at once;
   * but no check before the initial delay.
   */
  private onListening(port: unknown): void {
    const { readiness } = this.opts.launch;
    const delayLeft = readiness.initialDelayMs - (performance.now() - this.startedMs);
    if (delayLeft > 0) {
      // The delay's own timer probes then; a TCP check that waits for the line has none yet.
      if (this.tcpFromLine && readiness.check.kind === 'tcp') this.scheduleProbe(delayLeft);
      return;
    }
    // Its listen callback ran, so connecting now could only confirm what it says.
    if (readiness.check.kind === 'tcp' && port === this.port) {
      this.onProbe(true);
      if (!this.probing) this.scheduleProbe(this.nextProbeDelay());
      return;
    }
    this.probeSoon();
  }

  private probeSoon(): void {
    if (this.probing) {
      this.probeNow = true;
      return;
    }
    this.scheduleProbe(0);
  }

  private scheduleProbe(delayMs: number): void {
    this.clearProbe();
    const run = (): void => {
      this.probeTimer = undefined;
      void this.runProbe();
    };
    this.probeTimer = delayMs <= 0 ? setTimeout(run, 0) : setTimeout(run, delayMs);
  }

  private clearProbe(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  private async runProbe(): Promise<void> {
    if (!this.live || this.probing) return;
    // libuv rounds timers to whole milliseconds of its loop clock, so one may fire up to a
    // millisecond early: no probe before the initial delay is over, to the sub-millisecond.
    const delayLeft = this.opts.launch.readiness.initialDelayMs - (performance.now() - this.startedMs);
    if (delayLeft > 0) {
      this.scheduleProbe(delayLeft);
      return;
    }
    this.probing = true;
    this.probeStartedAt ??= performance.now();
    const { readiness } = this.opts.launch;
    const ok = await probeOnce(readiness.check, this.host, this.port, readiness.timeoutMs);
    this.probing = false;
    if (!this.live) return;
    this.onProbe(ok);
    if (!this.live) return;
    if (this.probeNow && this.state === 'starting') {
      this.probeNow = false;
      this.scheduleProbe(0);
    } else {
      this.scheduleProbe(this.nextProbeDelay());
    }
  }

  private onProbe(ok: boolean): void {
    const { readiness } = this.opts.launch;
    if (ok) {
      this.failures = 0;
      this.passes++;
      if (this.state !== 'ready' && this.passes >= readiness.successThreshold) {
        this.state = 'ready';
        if (!this.everReady) {
          this.everReady = true;
          this.times.readyAt = preciseNow();
          if (this.times.listeningSeenAt !== undefined) this.reportTimes();
          else this.timesTimer = setTimeout(() => this.reportTimes(), LISTENING_LINE_WAIT_MS);
        }
        this.opts.events.onReady(this);
      }
      return;
    }
    this.passes = 0;
    this.failures++;
    if (this.state === 'ready' && this.failures >= readiness.failureThreshold) {
      this.state = 'unready';
      this.opts.log.warn({ failures: this.failures }, 'replica failed its readiness probe; no traffic until it passes again');
      this.opts.events.onUnready(this);
    }
  }

  private nextProbeDelay(): number {
    const { readiness } = this.opts.launch;
    if (this.everReady) return readiness.periodMs;
    const { startFastMs, startMaxIntervalMs } = this.opts.probe;
    // Fast at first, because this interval bounds the platform's share of a cold start;
    // then slower, for things that take seconds to start.
    if (performance.now() - (this.probeStartedAt ?? 0) > startFastMs) {
      this.probeInterval = Math.min(startMaxIntervalMs, Math.max(this.probeInterval * 2, 10));
    }
    return this.probeInterval;
  }

  private reportTimes(): void {
    if (this.timesReported || this.state === 'exited') return;
    this.timesReported = true;
    if (this.timesTimer) clearTimeout(this.timesTimer);
    this.opts.events.onTimes(this);
  }

  private finish(code: number | null, signal: NodeJS.Signals | null, spawnError?: string): void {
    if (this.state === 'exited') return;
    this.state = 'exited';
    this.clearProbe();
    for (const t of [this.killTimer, this.closeTimer, this.timesTimer]) if (t) clearTimeout(t);
    const exit: ReplicaExit = {
      code,
      signal,
      wasReady: this.everReady,
      wasStopped: this.stopped,
      lastOutput: spawnError ?? this.lastStderr ?? this.lastStdout,
      addressInUse: this.addressInUse,
    };
    if (spawnError !== undefined) exit.spawnError = spawnError;
    this.exited.resolve();
    this.opts.events.onExit(this, exit);
  }
}

function spawnErrorMessage(err: Error, launch: LaunchSpec): string {
  // ENOENT names the command even when it is the working directory that is missing.
  if (!existsSync(launch.cwd)) return `working directory ${launch.cwd} does not exist`;
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
    return `command ${launch.command} not found ${launch.command.includes('/') ? `in ${launch.cwd}` : 'on PATH'}`;
  }
  return `cannot start ${launch.command}: ${err.message}`;
}
