// Child processes of the benchmark: started with their output captured, waited on with
// deadlines, and never left behind — whatever is still running when this process exits
// gets a signal from the exit hook.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly exited: Promise<Exit>;
  /** The first stdout line that parses as JSON and passes `match`, within `timeoutMs`. */
  waitForJson(match: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>>;
  /** The last lines of stdout and stderr, for error messages. */
  tail(): string;
  /** `signal`, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<Exit>;
}

const live = new Map<ChildProcess, NodeJS.Signals>();
process.on('exit', () => {
  for (const [proc, signal] of live) proc.kill(signal);
});

const TAIL_LINES = 20;

/**
 * Starts `command`. `lastResortSignal` is what the exit hook sends if it is still
 * running then: SIGKILL by default; SIGTERM for processes (nginx's master) that must
 * take their own children down with them.
 */
export function startChild(
  name: string,
  command: string,
  args: readonly string[],
  opts: SpawnOptions & { lastResortSignal?: NodeJS.Signals } = {},
): Child {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  live.set(proc, opts.lastResortSignal ?? 'SIGKILL');
  const lines: string[] = [];
  const watchers = new Set<(line: string) => void>();
  const remember = (prefix: string) => (line: string): void => {
    lines.push(prefix + line);
    if (lines.length > TAIL_LINES) lines.shift();
  };
  if (proc.stdout) {
    const rl = createInterface({ input: proc.stdout });
    rl.on('line', remember(''));
    rl.on('line', (line) => {
      for (const w of watchers) w(line);
    });
  }
  if (proc.stderr) createInterface({ input: proc.stderr }).on('line', remember('stderr: '));

  const exited = new Promise<Exit>((resolve) => {
    proc.once('error', (err) => {
      lines.push(`spawn error: ${err.message}`);
      live.delete(proc);
      resolve({ code: null, signal: null });
    });
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      resolve({ code, signal });
    });
  });

  const tail = (): string => lines.join('\n');

  function waitForJson(match: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const done = (err: Error | undefined, value?: Record<string, unknown>): void => {
        clearTimeout(timer);
        watchers.delete(onLine);
        if (err) reject(err);
        else resolve(value ?? {});
      };
      const onLine = (line: string): void => {
        if (!line.startsWith('{')) return;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          return;
        }
        if (typeof parsed === 'object' && parsed !== null && match(parsed as Record<string, unknown>)) done(undefined, parsed as Record<string, unknown>);
      };
      const timer = setTimeout(() => done(new Error(`${name}: no matching line within ${timeoutMs} ms; output:\n${tail()}`)), timeoutMs);
      watchers.add(onLine);
      void exited.then((e) => done(new Error(`${name} exited (code ${e.code}, signal ${e.signal}) before the line came; output:\n${tail()}`)));
    });
  }

  async function stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<Exit> {
    if (live.has(proc)) {
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    }
    return exited;
  }

  return { name, proc, exited, waitForJson, tail, stop };
}

export interface Finished extends Exit {
  stdout: string;
  stderr: string;
}

/** Runs `command` to its end, killing it after `timeoutMs`. */
export async function runToEnd(command: string, args: readonly string[], timeoutMs: number, opts: SpawnOptions = {}): Promise<Finished> {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  live.set(proc, 'SIGKILL');
  let stdout = '';
  let stderr = '';
  proc.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  proc.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const exit = await new Promise<Exit>((resolve) => {
    proc.once('error', (err) => {
      stderr += `spawn error: ${err.message}`;
      resolve({ code: null, signal: null });
    });
    proc.once('close', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(timer);
  live.delete(proc);
  return { ...exit, stdout, stderr };
}

/** Whether `command` can be run (found on PATH). */
export async function available(command: string, versionArgs: readonly string[] = ['-v']): Promise<boolean> {
  const r = await runToEnd(command, versionArgs, 5000);
  return r.code !== null;
}

/** Resolves once something accepts connections on loopback `port`; fails if `child` exits first. */
export async function waitForPort(port: number, timeoutMs: number, child: Child): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => (exited = true));
  while (Date.now() < deadline && !exited) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${child.name} did not listen on ${port} within ${timeoutMs} ms; output:\n${child.tail()}`);
}
