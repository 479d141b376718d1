// A warm runtime (KFN_RUNTIME_POOL=1): started by the local platform before any function
// needs it, it exercises node's HTTP server path and its own handler adapter, then waits
// on stdin for the replica it is to become. Taking one skips fork, exec, node's start and
// the slow first request of a fresh process (node compiles its HTTP internals lazily, on
// first use: ~10 ms measured on a 2-core machine) from a cold start.
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Handler } from './handler.js';
import { createRuntimeServer, sendError } from './server.js';

/** What the platform sends, as one JSON line: what a spawned replica would have been given. */
export interface Assignment {
  /** The runtime's arguments: the handler module first. */
  args: string[];
  cwd: string;
  /** The replica's whole environment (PORT included); replaces the pool's. */
  env: Record<string, string>;
}

const WARM_REQUESTS = 24;

/** Requests of the shapes functions get (query, JSON body) through a throwaway server on loopback. */
export async function warmUp(): Promise<void> {
  const echo: Handler = (req) => ({ headers: { 'x-warm': '1' }, body: { path: req.path, query: Object.fromEntries(req.query), body: req.text() } });
  const runtime = createRuntimeServer({ handler: { form: 'default', handler: echo }, log: () => {}, maxBodyBytes: 1024 });
  await new Promise<void>((resolve, reject) => {
    runtime.server.once('error', reject);
    runtime.server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = runtime.server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < WARM_REQUESTS; i++) {
      const body = i % 2 === 0 ? undefined : JSON.stringify({ i });
      await exchange(agent, port, i % 2 === 0 ? 'GET' : 'POST', `/warm?i=${i}`, body);
    }
  } finally {
    agent.destroy();
    await runtime.drain(1000);
  }
}

function exchange(agent: Agent, port: number, method: string, path: string, body: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      res.resume();
      res.once('end', resolve);
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(body);
  });
}

/** The port a warm runtime holds for the replica it will become. */
export interface ReservedPort {
  /** Listening, and answering 503 until the replica's handler takes it over. */
  server: Server;
  port: number;
  /** What it listens on: KFN_HOST as the pool set it ('' for every address, as node's default). */
  host: string;
}

/**
 * Listens on a port of the kernel's choosing before the runtime is assigned, and tells
 * the platform which: the replica it becomes serves there, so a cold start neither picks
 * a free port nor binds one, and no other process can take the port in between. Until
 * the handler is loaded, whatever connects is told to come back (an httpGet readiness
 * probe fails, as for a process still starting); the platform does not take a connection
 * to this port as a sign of readiness.
 */
export function reservePort(host: string): Promise<ReservedPort> {
  const server = createServer((_req, res) => {
    res.setHeader('retry-after', '1');
    res.setHeader('connection', 'close');
    sendError(res, 503, 'the function is starting');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host || undefined, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({ server, port, host });
    });
  });
}

/** Whether the replica, as assigned, listens where the runtime already does. */
export function servesOnReserved(reserved: Pick<ReservedPort, 'port' | 'host'>, env: NodeJS.ProcessEnv): boolean {
  return env.PORT === String(reserved.port) && (env.KFN_HOST ?? '') === reserved.host;
}

/** Reads the assignment, the first line on `input`. */
export function readAssignment(input: NodeJS.ReadableStream): Promise<Assignment> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk: string): void => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      done();
      try {
        resolve(parseAssignment(buf.slice(0, nl)));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    const onEnd = (): void => {
      done();
      reject(new Error('the platform closed stdin without an assignment'));
    };
    const done = (): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.pause();
    };
    input.setEncoding('utf8');
    input.on('data', onData);
    input.once('end', onEnd);
  });
}

export function parseAssignment(line: string): Assignment {
  const v = JSON.parse(line) as Partial<Assignment> | null;
  const strings = (a: unknown): a is string[] => Array.isArray(a) && a.every((s) => typeof s === 'string');
  if (typeof v !== 'object' || v === null) throw new Error('assignment: want a JSON object');
  if (!strings(v.args) || v.args.length === 0) throw new Error('assignment: args must name the handler module');
  if (typeof v.cwd !== 'string' || v.cwd === '') throw new Error('assignment: cwd must be a folder');
  const env = v.env;
  if (typeof env !== 'object' || env === null || !Object.values(env).every((s) => typeof s === 'string')) {
    throw new Error('assignment: env must map names to strings');
  }
  return { args: v.args, cwd: v.cwd, env };
}

/** Turns this process into the replica: its folder, exactly its environment, its arguments. */
export function become(a: Assignment): void {
  process.chdir(a.cwd);
  for (const name of Object.keys(process.env)) if (!Object.hasOwn(a.env, name)) delete process.env[name];
  Object.assign(process.env, a.env);
  process.argv.splice(2, process.argv.length - 2, ...a.args);
}
