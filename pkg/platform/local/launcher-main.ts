// The launcher: a small process that `kfn dev` (the local platform) starts once and that
// starts every replica and warm runtime for it, so that no fork of the large platform
// process ever runs in its event loop (spawn() forks the caller, and its cost grows with
// the caller's memory: milliseconds of a busy activator per replica). It reports pids,
// output lines and exits back over the IPC channel. Imports only node built-ins and its
// own small files: it is started on the platform's path.
//
// It never outlives the platform: when the IPC channel closes (the platform exited,
// even by SIGKILL, which closes its end of the pipe), it sends SIGTERM to everything it
// started, SIGKILL to what is left after a grace period, and exits.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { FromLauncher, ToLauncher } from './launcher-protocol.js';
import { PARENT_PID_ENV } from './launcher-protocol.js';
import { forEachLine } from './output.js';

const ORPHAN_GRACE_MS = Number(process.env.KFN_LAUNCHER_GRACE_MS) || 5000;
const children = new Map<number, ChildProcess>();
let leaving = false;

function send(m: FromLauncher): void {
  if (process.connected) process.send?.(m);
}

function start(m: Extract<ToLauncher, { t: 'spawn' }>): void {
  const env = { ...m.env };
  // The runtime watches its parent: that is us, not the platform.
  if (PARENT_PID_ENV in env) env[PARENT_PID_ENV] = String(process.pid);
  let child: ChildProcess;
  try {
    // Not detached: in the launcher's process group and session (and so its CPU share).
    child = spawn(m.command, m.args, { cwd: m.cwd, env, stdio: [m.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  } catch (err) {
    send({ t: 'error', id: m.id, code: (err as NodeJS.ErrnoException).code, message: (err as Error).message });
    send({ t: 'close', id: m.id });
    return;
  }
  child.on('error', (err) => {
    // Only a failure to start is reported; a failed kill() lands here too.
    if (child.pid !== undefined) return;
    send({ t: 'error', id: m.id, code: (err as NodeJS.ErrnoException).code, message: err.message });
  });
  // Writes to a process that is gone surface as its exit.
  child.stdin?.on('error', () => {});
  if (!m.pipesToParent) {
    if (child.stdout) forEachLine(child.stdout, (line) => send({ t: 'line', id: m.id, stream: 'stdout', line }));
    if (child.stderr) forEachLine(child.stderr, (line) => send({ t: 'line', id: m.id, stream: 'stderr', line }));
  }
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    children.delete(m.id);
    send({ t: 'close', id: m.id });
    if (leaving && children.size === 0) process.exit(0);
  };
  child.once('exit', (code, signal) => {
    send({ t: 'exit', id: m.id, code, signal });
    // The last lines come before 'close', but not forever: a grandchild may hold the pipes open.
    setTimeout(close, 200).unref();
  });
  child.once('close', close);
  if (child.pid === undefined) return;
  children.set(m.id, child);
  send({ t: 'spawned', id: m.id, pid: child.pid });
  if (m.pipesToParent && process.connected) {
    // Node closes our copy of each once the platform has it.
    for (const [stream, pipe] of [['stdout', child.stdout], ['stderr', child.stderr], ['stdin', child.stdin]] as const) {
      // A child's stdio pipe is a net.Socket at run time (typed as a plain stream).
      if (pipe) process.send?.({ t: 'stdio', id: m.id, stream } satisfies FromLauncher, pipe as Socket);
    }
  }
}

function onMessage(m: ToLauncher): void {
  if (leaving) return;
  switch (m.t) {
    case 'spawn':
      start(m);
      return;
    case 'write': {
      const stdin = children.get(m.id)?.stdin;
      if (!stdin) return;
      if (m.end) stdin.end(m.data);
      else stdin.write(m.data);
      return;
    }
    case 'kill': {
      const c = children.get(m.id);
      if (c && c.exitCode === null && c.signalCode === null) c.kill(m.signal);
      return;
    }
  }
}

/** The platform is gone: nothing we started may stay. */
function leave(): void {
  if (leaving) return;
  leaving = true;
  if (children.size === 0) process.exit(0);
  for (const c of children.values()) c.kill('SIGTERM');
  setTimeout(() => {
    for (const c of children.values()) c.kill('SIGKILL');
    process.exit(0);
  }, ORPHAN_GRACE_MS);
}

process.on('message', (m) => onMessage(m as ToLauncher));
process.on('disconnect', leave);
process.on('SIGTERM', leave);
// Ctrl-C is not ours to act on (the platform stops replicas, draining them), should it reach us.
process.on('SIGINT', () => {});
if (!process.connected) leave();
