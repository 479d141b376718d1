// Stats over HTTP, for cluster mode: the autoscaler's intake server and the client the
// activators use. Local mode skips both and calls the StatSink in-process.
import type { FastifyInstance } from 'fastify';
import type { FunctionKey } from '../apis/meta.js';
import { sleep } from '../shared/abort.js';
import { backoffDelay, type BackoffPolicy } from '../shared/backoff.js';
import { createHttpApp } from '../shared/http-app.js';
import { envelope } from '../shared/http-error.js';
import { newLogger, type Logger } from '../shared/log.js';
import type { ConcurrencyStat, DemandNow, StatSink } from './stats.js';

export interface StatServerOptions {
  /** Largest batch accepted. One activator with 10,000 busy functions posts ~1.5 MB a second. */
  bodyLimit?: number;
  /** Where handler failures are logged. */
  log?: Logger;
}

/**
 * POST /stats with a JSON array of ConcurrencyStat; POST /poke/:namespace/:name, with
 * no body (a cold start) or a DemandNow as JSON. A batch with any bad stat is refused
 * whole (400 naming the first problems) and records nothing; so is a bad demand.
 */
export function buildStatServer(sink: StatSink, opts: StatServerOptions = {}): FastifyInstance {
  const app = createHttpApp({
    bodyLimit: opts.bodyLimit ?? 32 * 1024 * 1024,
    ...(opts.log ? { log: opts.log } : {}),
    routesHint: 'this server has POST /stats and POST /poke/<namespace>/<name>',
  });

  app.post('/stats', async (req, reply) => {
    const problems = statsProblems(req.body);
    if (problems.length > 0) {
      return reply.code(400).send(envelope('invalid_stats', problems.join('; '), problems));
    }
    const stats = req.body as ConcurrencyStat[];
    for (const stat of stats) sink.record(stat);
    return { recorded: stats.length };
  });

  app.post<{ Params: { namespace: string; name: string } }>('/poke/:namespace/:name', async (req, reply) => {
    const { namespace, name } = req.params;
    if (namespace === '' || name === '') {
      return reply.code(400).send(envelope('bad_request', 'want /poke/<namespace>/<name>'));
    }
    const body: unknown = req.body;
    if (body === undefined || body === null || body === '') {
      sink.poke({ namespace, name });
    } else {
      const problem = demandProblem(body);
      if (problem) return reply.code(400).send(envelope('invalid_stats', `demand${problem}`, [`demand${problem}`]));
      const d = body as DemandNow;
      sink.poke({ namespace, name }, { source: d.source, concurrency: d.concurrency, requestsPerSecond: d.requestsPerSecond, time: d.time });
    }
    return reply.code(202).send({ poked: `${namespace}/${name}` });
  });

  return app;
}

const MAX_REPORTED = 5;
/**
 * Largest concurrency or request rate one activator may report for one function. Far
 * above what one activator can carry (its queue holds 10,000 by default, and it relays
 * tens of thousands of requests a second), so only a broken or hostile sender reaches
 * it: 1e300 would otherwise ask for that many replicas of a function with no max.
 */
export const MAX_STAT_VALUE = 10_000_000;

/** What is wrong with a /stats body, by JSON path (`[3].key.name: …`); empty when valid. */
export function statsProblems(body: unknown): string[] {
  if (!Array.isArray(body)) return ['body must be a JSON array of stats'];
  const problems: string[] = [];
  for (let i = 0; i < body.length && problems.length < MAX_REPORTED; i++) {
    const p = statProblem(body[i] as unknown);
    if (p) problems.push(`[${i}]${p}`);
  }
  return problems;
}

function statProblem(v: unknown): string | undefined {
  if (!isObject(v)) return ': must be an object';
  const key = v.key;
  if (!isObject(key)) return '.key: must be an object with namespace and name';
  if (!nonEmptyString(key.namespace)) return '.key.namespace: must be a non-empty string';
  if (!nonEmptyString(key.name)) return '.key.name: must be a non-empty string';
  if (!nonEmptyString(v.source)) return '.source: must be a non-empty string';
  if (!statValue(v.averageConcurrency)) return `.averageConcurrency: must be a number from 0 to ${MAX_STAT_VALUE}`;
  if (!statValue(v.requestCount)) return `.requestCount: must be a number from 0 to ${MAX_STAT_VALUE}`;
  // Optional: activators from before scale.metric rps do not send it.
  if (v.requestsPerSecond !== undefined && !statValue(v.requestsPerSecond)) return `.requestsPerSecond: must be a number from 0 to ${MAX_STAT_VALUE}`;
  if (!nonNegative(v.time)) return '.time: must be epoch milliseconds';
  return undefined;
}

/** What is wrong with a poke's demand (`.concurrency: …`); undefined when valid. */
export function demandProblem(v: unknown): string | undefined {
  if (!isObject(v)) return ': must be an object with source, concurrency, requestsPerSecond and time';
  if (!nonEmptyString(v.source)) return '.source: must be a non-empty string';
  if (!statValue(v.concurrency)) return `.concurrency: must be a number from 0 to ${MAX_STAT_VALUE}`;
  if (!statValue(v.requestsPerSecond)) return `.requestsPerSecond: must be a number from 0 to ${MAX_STAT_VALUE}`;
  if (!nonNegative(v.time)) return '.time: must be epoch milliseconds';
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}
function nonNegative(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}
function statValue(v: unknown): v is number {
  return nonNegative(v) && v <= MAX_STAT_VALUE;
}

export interface HttpStatSinkOptions {
  log?: Logger;
  /** How often buffered stats are posted. Default 1000. */
  intervalMs?: number;
  /** Stats held while the autoscaler is unreachable; the oldest go first. Default 100,000. */
  maxBuffered?: number;
  /** Per-request timeout. Default 5000. */
  timeoutMs?: number;
  /**
   * Per-poke timeout. Default 1000: the autoscaler answers a poke in a millisecond, and
   * after a leader's node is lost the Service names its address until the next leader
   * takes over, where a connection may hang rather than be refused; a poke that waited
   * out 5 s there would hold the cold start back by as much.
   */
  pokeTimeoutMs?: number;
  /**
   * How long a failed poke is retried (first after 100 ms, doubling to every 1 s) before it
   * is given up. Default 60,000: a cold start outlives an autoscaler failover.
   */
  pokeRetryMs?: number;
  /** Sent with every post, so the autoscaler's side can tell who called (default: fetch's own). */
  userAgent?: string;
}

/** Backoff of a failed poke: 100 ms, doubling, at most 1 s between tries: a new leader is found within a second of listening. */
export const POKE_BACKOFF: BackoffPolicy = { kind: 'exponential', baseMs: 100, maxMs: 1000 };

/**
 * The activator's StatSink on a cluster: record() buffers and a post goes out every
 * interval (one at a time); poke() posts at once, since a request is waiting on it.
 * The URL is the autoscaler Service, whose one endpoint is the leader's pod (written by
 * the leader: see pkg/platform/kubernetes/leader-endpoints.ts), so while leadership
 * changes hands posts fail for a moment. A failed batch of stats goes back into the
 * buffer for the next interval (the new leader's windows get them by their time); a
 * failed poke is retried with a short backoff, since a cold start waits on it and
 * nothing else would ask again.
 */
export class HttpStatSink implements StatSink {
  private readonly base: string;
  private readonly log: Logger;
  private readonly intervalMs: number;
  private readonly maxBuffered: number;
  private readonly timeoutMs: number;
  private readonly pokeTimeoutMs: number;
  private readonly pokeRetryMs: number;
  /** Ends the backoff sleeps of retrying pokes on close(). */
  private readonly closing = new AbortController();
  private readonly userAgent: string | undefined;
  private buffer: ConcurrencyStat[] = [];
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private posting: Promise<void> | undefined;
  /** Pokes in flight, by function. */
  private readonly pokes = new Map<string, Promise<void>>();
  /** The latest demand that came while a poke for its function was in flight: sent after it. */
  private readonly nextDemand = new Map<string, DemandNow>();
  private closed = false;

  constructor(url: string, opts: HttpStatSinkOptions = {}) {
    this.base = url.replace(/\/+$/, '');
    this.log = opts.log ?? newLogger({ name: 'stat-sink' });
    this.intervalMs = opts.intervalMs ?? 1000;
    this.maxBuffered = opts.maxBuffered ?? 100_000;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.pokeTimeoutMs = opts.pokeTimeoutMs ?? Math.min(1000, this.timeoutMs);
    this.pokeRetryMs = opts.pokeRetryMs ?? 60_000;
    this.userAgent = opts.userAgent;
  }

  record(stat: ConcurrencyStat): void {
    if (this.closed) return;
    this.buffer.push(stat);
    if (this.buffer.length > this.maxBuffered) {
      const over = this.buffer.length - this.maxBuffered;
      this.buffer.splice(0, over);
      this.dropped += over;
    }
    this.schedule();
  }

  /**
   * A burst of cold requests for one function sends one poke, not one each; demands
   * that come while a poke is in flight are sent after it, the latest only.
   */
  poke(key: FunctionKey, demand?: DemandNow): void {
    const fn = `${key.namespace}/${key.name}`;
    if (this.closed) return;
    if (this.pokes.has(fn)) {
      if (demand) this.nextDemand.set(fn, demand);
      return;
    }
    const url = `${this.base}/poke/${encodeURIComponent(key.namespace)}/${encodeURIComponent(key.name)}`;
    const p: Promise<void> = this.pokeAll(url, fn, demand)
      .catch((err: unknown) => this.log.warn({ err, fn }, 'poking the autoscaler failed; giving up'))
      .finally(() => {
        this.pokes.delete(fn);
        this.nextDemand.delete(fn);
      });
    this.pokes.set(fn, p);
  }

  private async pokeAll(url: string, fn: string, demand: DemandNow | undefined): Promise<void> {
    for (let body = demand; ; ) {
      await this.pokeUntilTaken(url, fn, body);
      body = this.nextDemand.get(fn);
      if (body === undefined || this.closed) return;
      this.nextDemand.delete(fn);
    }
  }

  private async pokeUntilTaken(url: string, fn: string, demand: DemandNow | undefined): Promise<void> {
    const giveUpAt = Date.now() + this.pokeRetryMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.post(url, demand, this.pokeTimeoutMs);
        if (attempt > 1) this.log.info({ fn, attempt }, 'poke taken after retrying');
        return;
      } catch (err) {
        const delay = backoffDelay(POKE_BACKOFF, attempt);
        if (this.closed || Date.now() + delay > giveUpAt) throw err;
        if (attempt === 1) this.log.warn({ err, fn }, 'poking the autoscaler failed; retrying (a new leader may be taking over)');
        await sleep(delay, this.closing.signal);
        if (this.closed) throw new Error('the stat sink closed', { cause: err });
      }
    }
  }

  /** Posts what is buffered now, if nothing is being posted already. */
  flush(): Promise<void> {
    if (this.posting) return this.posting;
    if (this.buffer.length === 0) return Promise.resolve();
    const batch = this.buffer;
    this.buffer = [];
    const dropped = this.dropped;
    this.dropped = 0;
    this.posting = this.post(`${this.base}/stats`, batch)
      .catch((err: unknown) => {
        // Back to the front, oldest first, and still bounded: the next interval (or a new
        // leader) gets them. Once closed there is no next interval.
        if (!this.closed) this.requeue(batch);
        this.log.warn({ err, stats: batch.length, dropped }, 'posting stats to the autoscaler failed; keeping them for the next interval');
      })
      .finally(() => {
        this.posting = undefined;
        // Stats that came in while we posted wait for the next interval.
        if (this.buffer.length > 0) this.schedule();
      });
    if (dropped > 0) this.log.warn({ dropped }, 'stats dropped: the autoscaler did not keep up');
    return this.posting;
  }

  /** Stops the timer, posts what is left and waits for posts in flight. */
  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.posting;
    await this.flush();
    await Promise.allSettled([...this.pokes.values()]);
  }

  private requeue(batch: ConcurrencyStat[]): void {
    const room = this.maxBuffered - this.buffer.length;
    const kept = room >= batch.length ? batch : batch.slice(batch.length - Math.max(0, room));
    this.dropped += batch.length - kept.length;
    this.buffer = kept.concat(this.buffer);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // flush() never rejects: failures are logged inside it.
      void this.flush();
    }, this.intervalMs);
    // Stats alone should not keep a process alive that is otherwise done.
    this.timer.unref();
  }

  private async post(url: string, body: unknown, timeoutMs = this.timeoutMs): Promise<void> {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.userAgent ? { 'user-agent': this.userAgent } : {}),
      },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${text.slice(0, 200)}`);
  }
}
