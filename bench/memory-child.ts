// The activator in a fresh process, for the memory benchmark: driven over IPC by
// bench/memory.ts, which routes functions, sends traffic from outside, and asks for
// measurements. Run with --expose-gc so a measurement follows a full collection.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { Registry } from 'prom-client';
import { createActivator, listenActivator } from '../pkg/activator/activator.js';
import type { StatSink } from '../pkg/autoscaler/stats.js';
import { quietLogger } from '../pkg/shared/log.js';
import { endpointHost, endpointsOf, functionKey, type FromChild, type MemoryDetail, type ToChild } from './lib/memory-protocol.js';

const gc = (globalThis as { gc?: () => void }).gc;

function memoryDetail(): MemoryDetail {
  const heapSpaces: MemoryDetail['heapSpaces'] = {};
  for (const s of getHeapSpaceStatistics()) heapSpaces[s.space_name] = { committed: s.space_size, used: s.space_used_size };
  return { heapSpaces, rssByMapping: rssByMapping(), sockets: socketsOpen() };
}

/** Sockets among the open file descriptors (idle keep-alive sockets are unref'd, so not among the active handles). */
function socketsOpen(): number {
  let n = 0;
  try {
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) n++;
      } catch {
        // Closed since the listing.
      }
    }
  } catch {
    return -1;
  }
  return n;
}

function rssByMapping(): Record<string, number> {
  let smaps: string;
  try {
    smaps = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return {};
  }
  const out: Record<string, number> = {};
  let kind = 'anonymous';
  for (const line of smaps.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1] ?? '';
      if (name === '') kind = 'anonymous';
      else if (name === '[heap]') kind = 'brk';
      else if (name.startsWith('[stack')) kind = 'stack';
      else if (name.startsWith('[')) kind = 'other';
      else if (name === process.execPath || name.endsWith('/node')) kind = 'node';
      else kind = 'libraries';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind] = (out[kind] ?? 0) + Number(rss[1]) * 1024;
  }
  return out;
}

function send(m: FromChild): void {
  process.send?.(m);
}

async function main(): Promise<void> {
  if (!gc || !process.send) throw new Error('run with --expose-gc, as a child with an IPC channel');
  const dropStats: StatSink = { record: () => {}, poke: () => {} };
  const activator = createActivator({ log: quietLogger(), statSink: dropStats, metrics: new Registry() });
  const stop = new AbortController();
  const server = await listenActivator(activator, { port: 0, host: '127.0.0.1', closeGraceMs: 1000 }, stop.signal);
  const reporting = activator.run(stop.signal);

  process.on('message', (m: ToChild) => {
    switch (m.type) {
      case 'route': {
        const started = performance.now();
        let endpoints = 0;
        let n = 0;
        for (let i = 0; i < m.functions; i++) {
          const key = functionKey(i);
          activator.upsertFunction(key, { containerConcurrency: 0, timeoutSeconds: 30 });
          const eps = [];
          for (let j = 0; j < endpointsOf(i); j++) eps.push({ id: `${key.name}-00001-${j + 1}`, host: endpointHost(n++), port: m.upstreamPort });
          endpoints += eps.length;
          activator.updateEndpoints({ key, endpoints: eps });
        }
        send({ type: 'routed', functions: m.functions, endpoints, ms: performance.now() - started });
        return;
      }
      case 'measure': {
        for (let i = 0; i < 3; i++) gc?.();
        const u = process.memoryUsage();
        send({ type: 'memory', rss: u.rss, heapUsed: u.heapUsed, heapTotal: u.heapTotal, external: u.external, arrayBuffers: u.arrayBuffers, detail: memoryDetail() });
        return;
      }
      case 'snapshot':
        send({ type: 'snapshot', file: writeHeapSnapshot(m.file) });
        return;
      case 'stop':
        stop.abort();
        void (async () => {
          await server.close();
          await reporting;
          await activator.close();
          process.exit(0);
        })();
        return;
    }
  });
  send({ type: 'listening', port: server.port });
}

await main();
