// The NATS server `kfn dev` runs when NATS_URL is not set: nats-server with JetStream on
// a free loopback port, its data under kfn's state folder so events survive a restart
// of kfn dev. A server left behind by a kfn dev that was killed is stopped first: two
// servers must never share one JetStream store.
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdir, readFile, constants } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import path from 'node:path';
import { sleep } from '../shared/abort.js';
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

export interface EmbeddedNats {
  url: string;
  pid: number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
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
}

export async function startEmbeddedNats(opts: EmbeddedNatsOptions): Promise<EmbeddedNats> {
  const bin = opts.bin === undefined ? await findOnPath('nats-server') : await executable(opts.bin);
  if (!bin) throw new NatsServerMissingError(opts.bin === undefined ? 'on PATH' : `at ${opts.bin}`);
  const storeDir = path.join(opts.dir, 'jetstream');
  const pidFile = path.join(opts.dir, 'nats-server.pid');
  await mkdir(storeDir, { recursive: true });
  await stopLeftover(pidFile, opts.log);

  const port = await freePort(opts.host);
  const child = spawn(bin, ['--jetstream', '--store_dir', storeDir, '--addr', opts.host, '--port', String(port), '--pid', pidFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  const deadline = performance.now() + (opts.readyTimeoutMs ?? 20_000);
  for (;;) {
    const failed = await Promise.race([spawnError, Promise.resolve(undefined)]);
    if (failed) throw new Error(`cannot start ${bin}: ${failed.message}`, { cause: failed });
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nats-server exited at start: ${output.trim()}`);
    // "Server is ready" comes once the client port listens and JetStream is up.
    if (output.includes('Server is ready') && (await accepts(opts.host, port))) break;
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nats-server did not accept connections on ${opts.host}:${port} in time: ${output.trim()}`);
    }
    await sleep(20);
  }
  const url = `nats://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  opts.log.info({ url, pid: child.pid, storeDir }, 'nats-server started');
  return {
    url,
    pid: child.pid ?? 0,
    stop: (graceMs = 10_000) => terminate(child, exited, graceMs),
  };
}

async function terminate(child: ChildProcess, exited: Promise<void>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
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
