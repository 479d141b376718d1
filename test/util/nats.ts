// A real nats-server with JetStream per test suite: a free port, a file store in its own
// temp dir, ready when it accepts connections, restartable on the same port and data.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, freePort } from './net.js';
import { setTimeout as delay } from 'node:timers/promises';

export interface NatsServer {
  url: string;
  port: number;
  /** SIGTERM, wait for exit, remove the data dir. */
  stop(): Promise<void>;
  /** Stops the process and starts it again on the same port with the same data. */
  restart(): Promise<void>;
}

const MISSING =
  'nats-server is not on PATH: run npm test, which installs it, or apt-get install nats-server';

export async function startNatsServer(opts: { readyTimeoutMs?: number } = {}): Promise<NatsServer> {
  if (spawnSync('nats-server', ['--version']).error) throw new Error(MISSING);
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'kfn-nats-'));
  const readyTimeoutMs = opts.readyTimeoutMs ?? 15_000;
  let child = await launch(port, dataDir, readyTimeoutMs);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async stop() {
      await terminate(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await terminate(child);
      child = await launch(port, dataDir, readyTimeoutMs);
    },
  };
}

async function launch(port: number, dataDir: string, timeoutMs: number): Promise<ChildProcess> {
  const child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dataDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failed = await Promise.race([spawnError, Promise.resolve(undefined)]);
    if (failed) throw new Error(MISSING, { cause: failed });
    if (exited) throw new Error(`nats-server exited at start: ${stderr}`);
    // The server logs "Server is ready" once the client port listens and JetStream is up.
    if (stderr.includes('Server is ready') && (await accepts(port))) return child;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nats-server did not accept connections on ${port} within ${timeoutMs} ms: ${stderr}`);
    }
    await delay(20);
  }
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
