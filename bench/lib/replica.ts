// The hello sample served by the real runtime, as its own process: the replica every
// data-path figure is measured against.
import { helloDir, helloHandler, runtimeMain } from './paths.js';
import { startChild, type Child } from './proc.js';

export interface RunningReplica {
  child: Child;
  host: string;
  port: number;
  /** The runtime's own figure: node's start → listening. */
  listeningAfterMs: number;
}

/** Starts a replica on a free port of `listenHost` (default 127.0.0.1). */
export async function startReplica(listenHost = '127.0.0.1'): Promise<RunningReplica> {
  const child = startChild('replica', process.execPath, [runtimeMain, helloHandler], {
    cwd: helloDir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', KFN_HOST: listenHost },
  });
  const line = await child.waitForJson((l) => l.msg === 'listening', 15_000);
  const port = Number(line.port);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`replica reported no port: ${JSON.stringify(line)}`);
  return { child, host: '127.0.0.1', port, listeningAfterMs: Number(line.listeningAfterMs) };
}
