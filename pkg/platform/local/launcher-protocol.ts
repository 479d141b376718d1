// The messages between the local platform and its launcher process (over node's IPC
// channel, one JSON value each). Each started process has an id the platform chose, so
// the platform can write to it, signal it and hear about it before its pid is known.
import type { OutputStream } from './output.js';

export interface SpawnRequest {
  t: 'spawn';
  id: number;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Keep a pipe to its stdin (a warm runtime reads its assignment there); else /dev/null. */
  stdin: boolean;
  /**
   * Hand its stdio pipes to the platform (one 'stdio' message each, the pipe attached)
   * instead of forwarding its lines: the platform then reads and writes them with no hop
   * through the launcher. Only for a process that writes nothing before the pipes have
   * been handed over (a warm runtime: it boots node and warms up first); anything the
   * launcher read before the handover would be lost.
   */
  pipesToParent?: boolean;
}

export type ToLauncher =
  | SpawnRequest
  | { t: 'write'; id: number; data: string; end: boolean }
  | { t: 'kill'; id: number; signal: NodeJS.Signals };

export type FromLauncher =
  | { t: 'spawned'; id: number; pid: number }
  /** It could not be started at all; `code` is the errno name (ENOENT...). */
  | { t: 'error'; id: number; code: string | undefined; message: string }
  | { t: 'line'; id: number; stream: OutputStream; line: string }
  /** Sent with the pipe itself attached (pipesToParent). */
  | { t: 'stdio'; id: number; stream: OutputStream | 'stdin' }
  | { t: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null }
  /** Its output has closed too: nothing more comes for this id. */
  | { t: 'close'; id: number };

/** Set in a process's environment: the launcher puts its own pid there (kfn-node-runtime exits when its parent is gone). */
export const PARENT_PID_ENV = 'KFN_PARENT_PID';
