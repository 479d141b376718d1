// Memory of an activator routing 10,000 functions, measured after a full GC in a fresh
// process (bench/memory-child.ts): routed only, after one request to a sample of them
// (state the activator creates on first use then exists for those), after one request to
// every one of them (what a real activator with traffic everywhere holds: the state of
// every function, and the idle connections to replicas it keeps, at most 1,000), and a
// few seconds later. Each figure carries where the RSS goes beyond the heap (V8 spaces,
// mappings, sockets open): right after traffic, V8's young generation is at its largest
// (2 × 16 MiB), and it is given back only after a few idle seconds.
import http from 'node:http';
import path from 'node:path';
import { functionKey, type FromChild, type ToChild } from './lib/memory-protocol.js';
import { benchDist } from './lib/paths.js';
import { startChild, type Child } from './lib/proc.js';
import { startReplica, type RunningReplica } from './lib/replica.js';
import { mb } from './lib/stats.js';

export interface MemoryOptions {
  functions: number;
  /** Functions that get one request in the sampled variant. */
  sample: number;
  connections: number;
  /**
   * How long to wait before the last measurement. Idle connections to replicas that say
   * how long they keep them (the kfn runtime: 65 s) are kept up to 60 s, but no more than
   * 1,000 of them over all replicas: this state shows what is left after a short pause.
   */
  idleWaitMs: number;
  /** Write a heap snapshot of the activator here once every function was served (slow, large). */
  heapSnapshotFile?: string;
}

export interface MemoryFigure {
  rssMB: number;
  heapUsedMB: number;
  heapTotalMB: number;
  externalMB: number;
  /** What the RSS is made of beyond the heap: V8 spaces, mappings, sockets open (in MB but the count). */
  detail: {
    heapSpacesMB: Record<string, { committed: number; used: number }>;
    rssByMappingMB: Record<string, number>;
    sockets: number;
  };
}

export interface MemoryResult {
  options: MemoryOptions;
  endpoints: number;
  routeMs: number;
  empty: MemoryFigure;
  routed: MemoryFigure;
  sampled: MemoryFigure;
  allServed: MemoryFigure;
  allServedIdle: MemoryFigure;
  heapSnapshot?: string;
}

function figure(m: Extract<FromChild, { type: 'memory' }>): MemoryFigure {
  const heapSpacesMB: MemoryFigure['detail']['heapSpacesMB'] = {};
  for (const [name, s] of Object.entries(m.detail.heapSpaces)) heapSpacesMB[name] = { committed: mb(s.committed), used: mb(s.used) };
  const rssByMappingMB: Record<string, number> = {};
  for (const [name, bytes] of Object.entries(m.detail.rssByMapping)) rssByMappingMB[name] = mb(bytes);
  return {
    rssMB: mb(m.rss),
    heapUsedMB: mb(m.heapUsed),
    heapTotalMB: mb(m.heapTotal),
    externalMB: mb(m.external),
    detail: { heapSpacesMB, rssByMappingMB, sockets: m.detail.sockets },
  };
}

class ChildChannel {
  private readonly waiting: Array<(m: FromChild) => void> = [];
  private readonly inbox: FromChild[] = [];

  constructor(private readonly child: Child) {
    child.proc.on('message', (m: FromChild) => {
      const w = this.waiting.shift();
      if (w) w(m);
      else this.inbox.push(m);
    });
  }

  send(m: ToChild): void {
    this.child.proc.send(m);
  }

  next<T extends FromChild['type']>(type: T, timeoutMs: number): Promise<Extract<FromChild, { type: T }>> {
    const queued = this.inbox.shift();
    const got = queued
      ? Promise.resolve(queued)
      : new Promise<FromChild>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`memory child: no '${type}' within ${timeoutMs} ms; output:\n${this.child.tail()}`)), timeoutMs);
          this.waiting.push((m) => {
            clearTimeout(timer);
            resolve(m);
          });
        });
    return got.then((m) => {
      if (m.type !== type) throw new Error(`memory child: expected '${type}', got ${JSON.stringify(m)}`);
      return m as Extract<FromChild, { type: T }>;
    });
  }

  async measure(): Promise<MemoryFigure> {
    this.send({ type: 'measure' });
    return figure(await this.next('memory', 30_000));
  }
}

/** One GET to each of `indexes` through the activator, `connections` at a time. */
async function touch(port: number, indexes: number[], connections: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let next = 0;
  const failures: string[] = [];
  const worker = async (): Promise<void> => {
    while (next < indexes.length) {
      const i = indexes[next++] ?? 0;
      const key = functionKey(i);
      const status = await new Promise<number>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host: `${key.name}.${key.namespace}.kfn.local` }, agent, timeout: 10_000 }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.once('timeout', () => req.destroy(new Error('timeout')));
        req.once('error', () => resolve(0));
      });
      if (status !== 200 && failures.length < 5) failures.push(`${key.namespace}/${key.name}: ${status}`);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  agent.destroy();
  if (failures.length > 0) throw new Error(`requests through the activator failed: ${failures.join(', ')}`);
}

export async function benchMemory(o: MemoryOptions): Promise<MemoryResult> {
  let replica: RunningReplica | undefined;
  let child: Child | undefined;
  try {
    // On 0.0.0.0 so that every 127.x.y.z endpoint address reaches it.
    replica = await startReplica('0.0.0.0');
    child = startChild('memory-child', process.execPath, ['--expose-gc', path.join(benchDist, 'memory-child.js')], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const ch = new ChildChannel(child);
    const { port } = await ch.next('listening', 15_000);
    const empty = await ch.measure();
    ch.send({ type: 'route', functions: o.functions, upstreamPort: replica.port });
    const routed = await ch.next('routed', 60_000);
    const routedMem = await ch.measure();

    const all = Array.from({ length: o.functions }, (_, i) => i);
    const step = Math.max(1, Math.floor(o.functions / Math.max(1, o.sample)));
    const sampled = all.filter((i) => i % step === 0).slice(0, o.sample);
    await touch(port, sampled, o.connections);
    const sampledMem = await ch.measure();
    const sampledSet = new Set(sampled);
    await touch(
      port,
      all.filter((i) => !sampledSet.has(i)),
      o.connections,
    );
    const allMem = await ch.measure();
    let heapSnapshot: string | undefined;
    if (o.heapSnapshotFile) {
      ch.send({ type: 'snapshot', file: o.heapSnapshotFile });
      heapSnapshot = (await ch.next('snapshot', 300_000)).file;
    }
    await new Promise((r) => setTimeout(r, o.idleWaitMs));
    const idleMem = await ch.measure();

    ch.send({ type: 'stop' });
    await child.stop('SIGTERM', 10_000);
    return {
      options: o,
      endpoints: routed.endpoints,
      routeMs: Math.round(routed.ms),
      empty,
      routed: routedMem,
      sampled: sampledMem,
      allServed: allMem,
      allServedIdle: idleMem,
      ...(heapSnapshot ? { heapSnapshot } : {}),
    };
  } finally {
    await child?.stop('SIGKILL', 1000);
    await replica?.child.stop('SIGTERM', 5000);
  }
}
