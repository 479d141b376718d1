// What bench/memory.ts and the activator process it measures (bench/memory-child.ts)
// say to each other, and the names and addresses of the functions they both use.

export type ToChild =
  | { type: 'route'; functions: number; upstreamPort: number }
  | { type: 'measure' }
  | { type: 'snapshot'; file: string }
  | { type: 'stop' };

export type FromChild =
  | { type: 'listening'; port: number }
  | { type: 'routed'; functions: number; endpoints: number; ms: number }
  | { type: 'memory'; rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number; detail: MemoryDetail }
  | { type: 'snapshot'; file: string };

/**
 * Where the RSS goes, to explain what the heap does not: bytes, by V8 heap space
 * (committed, and used), by kind of mapping (from /proc/self/smaps), and sockets open.
 */
export interface MemoryDetail {
  /** Per V8 space: bytes committed (resident or not) and used. */
  heapSpaces: Record<string, { committed: number; used: number }>;
  /**
   * Resident bytes by mapping: `node` (the executable's code and data), `libraries`
   * (other files mapped), `anonymous` (V8's heap pages, malloc, wasm memory), `brk` (the
   * [heap] malloc arena), `stack`; empty where /proc is not there.
   */
  rssByMapping: Record<string, number>;
  /**
   * Sockets open in the process: connections to replicas and from clients, the listening
   * socket, the IPC channel; -1 where /proc is not there.
   */
  sockets: number;
}

/** Function i: `fn-i` in namespace `team-(i mod 50)`. */
export function functionKey(i: number): { namespace: string; name: string } {
  return { namespace: `team-${i % 50}`, name: `fn-${i}` };
}

/**
 * A distinct loopback address per endpoint, as every replica on a cluster has its own
 * address; one upstream listening on 0.0.0.0 answers them all, and the activator keeps
 * separate pooled sockets per address as it would for real replicas.
 */
export function endpointHost(n: number): string {
  const c = 1 + (n % 254);
  const b = Math.floor(n / 254) % 256;
  const a = 1 + Math.floor(n / (254 * 256));
  return `127.${a}.${b}.${c}`;
}

/** Functions get one endpoint, every other one two. */
export function endpointsOf(i: number): number {
  return 1 + (i % 2);
}

