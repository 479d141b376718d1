// The platform's side of the launcher (launcher-main.ts): starting a process is a message,
// not a fork of this process, so a burst of cold starts never holds up the activator's
// event loop. A started process is a ProcessHandle: the events of a ChildProcess that
// replicas and warm runtimes use ('spawn', 'error', 'exit', 'close'), plus its output as
// lines ('line').
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../shared/log.js';
import type { FromLauncher, SpawnRequest, ToLauncher } from './launcher-protocol.js';
import { forEachLine, type OutputStream } from './output.js';

export interface SpawnOptions {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Keep a pipe to its stdin. */
  stdin?: boolean;
  /** Read and write its pipes here, handed over by the launcher (see SpawnRequest.pipesToParent). */
  pipesToParent?: boolean;
}

/** A process started by the launcher. */
export interface ProcessHandle {
  /** Known from its 'spawn' event on; undefined before, and for ever if it could not start. */
  readonly pid: number | undefined;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal: NodeJS.Signals): void;
  /** Synchronous SIGKILL from this process, for its exit hook: no message can go out then. */
  killNow(): void;
  write(data: string, end?: boolean): void;
  on(event: 'spawn', l: () => void): this;
  on(event: 'error', l: (err: Error & { code?: string }) => void): this;
  on(event: 'line', l: (line: string, stream: OutputStream) => void): this;
  once(event: 'exit', l: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'close', l: () => void): this;
  off(event: 'exit', l: (code: number | null, signal: NodeJS.Signals | null) => void): this;
}

class Launched extends EventEmitter implements ProcessHandle {
  pid: number | undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  closed = false;
  /** Its stdin, when the launcher handed it over. */
  stdin: Socket | undefined;
  /** Its output pipes handed over and not ended yet: 'close' waits for them, so no last line is lost. */
  openOutputs = 0;

  constructor(
    private readonly launcher: Launcher,
    readonly id: number,
  ) {
    super();
  }

  get running(): boolean {
    return this.exitCode === null && this.signalCode === null && !this.closed;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.launcher.send({ t: 'kill', id: this.id, signal });
  }

  killNow(): void {
    if (this.pid === undefined || !this.running) return;
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }

  write(data: string, end = false): void {
    if (!this.running) return;
    if (!this.stdin) this.launcher.send({ t: 'write', id: this.id, data, end });
    else if (end) this.stdin.end(data);
    else this.stdin.write(data);
  }
}

export interface LauncherOptions {
  log: Logger;
  /** The launcher's entry; default the compiled launcher-main.js beside this file. */
  entry?: string;
}

/**
 * Starts processes through one launcher process, started with the platform. If the
 * launcher dies, what it started is reported as killed (and SIGKILLed from here, in case
 * it is not), and the next start brings up a new launcher.
 */
export class Launcher {
  private proc: ChildProcess | undefined;
  private readonly handles = new Map<number, Launched>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly opts: LauncherOptions) {
    this.ensure();
  }

  /** The launcher's pid: the parent of everything it starts. */
  get pid(): number | undefined {
    return this.ensure().pid;
  }

  spawn(o: SpawnOptions): ProcessHandle {
    const h = new Launched(this, this.nextId++);
    if (this.closed) {
      queueMicrotask(() => this.failed(h, undefined, 'the local platform is closed'));
      return h;
    }
    this.handles.set(h.id, h);
    if (this.handles.size === 1) this.hold(true);
    const req: SpawnRequest = { t: 'spawn', id: h.id, command: o.command, args: o.args, cwd: o.cwd, env: o.env, stdin: o.stdin ?? false, pipesToParent: o.pipesToParent ?? false };
    this.send(req);
    return h;
  }

  send(m: ToLauncher): void {
    const proc = this.ensure();
    if (!proc.connected) return;
    proc.send(m, (err) => {
      if (err) this.opts.log.debug({ err }, 'launcher message not sent');
    });
  }

  /** Synchronous, for the platform's exit hook: SIGKILL everything started, and the launcher. */
  killNow(): void {
    for (const h of this.handles.values()) h.killNow();
    if (this.proc?.pid !== undefined && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }

  /** Stops the launcher once what it started is gone (the platform drains replicas first). */
  async close(): Promise<void> {
    this.closed = true;
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    // Waited for, so it holds this process until it has exited.
    proc.ref();
    // Disconnecting is what the launcher takes as the platform leaving.
    if (proc.connected) proc.disconnect();
    else proc.kill('SIGTERM');
    await gone;
  }

  private ensure(): ChildProcess {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null && this.proc.connected) return this.proc;
    const entry = this.opts.entry ?? fileURLToPath(new URL('./launcher-main.js', import.meta.url));
    // No execArgv of ours (a test runner's, an inspector's): it is a plain node process.
    // Detached: a session of its own, which Linux's autogroup scheduling (on by default)
    // treats as one CPU share. A burst of 100 starting replicas in our session left this
    // process one share in a hundred: its requests of the burst reached the activator
    // over 20 s (bench, 2 busy cores); in their own group they came within 70 ms. Ctrl-C
    // in our terminal no longer reaches the replicas, which is as wanted: stopping them
    // is the platform's job (drain), and the launcher's when the platform is gone.
    const proc = fork(entry, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [], serialization: 'json', detached: true });
    this.proc = proc;
    proc.on('message', (m, pipe) => this.onMessage(m as FromLauncher, pipe as Socket | undefined));
    proc.on('error', (err) => this.opts.log.error({ err }, 'launcher process error'));
    if (this.handles.size === 0) this.hold(false);
    proc.once('exit', (code, signal) => {
      if (this.proc === proc) this.proc = undefined;
      if (!this.closed) this.opts.log.error({ code, signal }, 'the replica launcher exited; its processes are gone too');
      // What it started cannot be heard from any more: report them killed, and make sure.
      for (const h of [...this.handles.values()]) {
        h.killNow();
        this.exited(h, null, 'SIGKILL');
        this.closedHandle(h);
      }
    });
    return proc;
  }

  private onMessage(m: FromLauncher, pipe: Socket | undefined): void {
    const h = this.handles.get(m.id);
    if (!h) {
      pipe?.destroy();
      return;
    }
    switch (m.t) {
      case 'spawned':
        h.pid = m.pid;
        h.emit('spawn');
        return;
      case 'error':
        this.failed(h, m.code, m.message);
        return;
      case 'line':
        h.emit('line', m.line, m.stream);
        return;
      case 'stdio':
        if (pipe) this.adopt(h, m.stream, pipe);
        return;
      case 'exit':
        this.exited(h, m.code, m.signal);
        return;
      case 'close':
        // The launcher's copies are closed; ours may still hold the last lines.
        if (h.openOutputs === 0) this.closedHandle(h);
        else setTimeout(() => this.closedHandle(h), 200).unref();
        return;
    }
  }

  private adopt(h: Launched, stream: OutputStream | 'stdin', pipe: Socket): void {
    if (stream === 'stdin') {
      // Writes to a process that is gone surface as its exit.
      pipe.on('error', () => {});
      h.stdin = pipe;
      return;
    }
    h.openOutputs++;
    forEachLine(pipe, (line) => h.emit('line', line, stream));
    pipe.once('close', () => {
      h.openOutputs--;
      if (h.openOutputs === 0 && (h.exitCode !== null || h.signalCode !== null)) this.closedHandle(h);
    });
  }

  private failed(h: Launched, code: string | undefined, message: string): void {
    const err = Object.assign(new Error(message), code === undefined ? {} : { code });
    h.emit('error', err);
    this.closedHandle(h);
  }

  private exited(h: Launched, code: number | null, signal: NodeJS.Signals | null): void {
    if (h.exitCode !== null || h.signalCode !== null) return;
    h.exitCode = code;
    h.signalCode = signal;
    h.emit('exit', code, signal);
  }

  private closedHandle(h: Launched): void {
    if (h.closed) return;
    h.closed = true;
    h.stdin?.destroy();
    this.handles.delete(h.id);
    if (this.handles.size === 0) this.hold(false);
    h.emit('close');
  }

  /**
   * Whether the launcher keeps this process running: while something it started lives,
   * as a spawned child's pipes would; otherwise an idle platform does not hold a process
   * open that has nothing else to do.
   */
  private hold(on: boolean): void {
    const proc = this.proc;
    if (!proc) return;
    if (on) {
      proc.ref();
      proc.channel?.ref();
    } else {
      proc.unref();
      proc.channel?.unref();
    }
  }
}
