// What activators tell the autoscaler. Local mode calls a StatSink in-process; on a
// cluster the same objects travel over HTTP.
import type { FunctionKey } from '../apis/meta.js';

export interface ConcurrencyStat {
  key: FunctionKey;
  /** Which activator measured it; stats of several activators are summed. */
  source: string;
  /** Average in-flight requests (including queued ones) over the sample period. */
  averageConcurrency: number;
  /** Requests that arrived in the sample period. */
  requestCount: number;
  /**
   * The same as a rate: requests that arrived per second over the period, never taken
   * over less than the activator's reporting interval (one request in the first 3 ms of
   * tracking is 1/s, not 333/s). What `scale.metric: rps` averages. Absent from an
   * activator that predates it: requestCount stands in, its period being 1 s by default.
   */
  requestsPerSecond?: number;
  /** End of the sample period, epoch ms. */
  time: number;
}

/**
 * What one activator sees of a function at one moment, sent with a poke when requests
 * queue faster than the 1 s reports would tell: a step from 0 to 50 clients is then
 * decided within a poke's delay, not at the report after next and the tick after that.
 */
export interface DemandNow {
  /** Which activator saw it; demands of several activators are summed. */
  source: string;
  /** Requests in flight at `time`, the queued ones included. */
  concurrency: number;
  /** Arrivals per second in the reporting period so far, over at least one interval. */
  requestsPerSecond: number;
  /** Epoch ms. */
  time: number;
}

export interface StatSink {
  record(stat: ConcurrencyStat): void;
  /**
   * Decide now: a request is waiting for a function with no ready replica (no demand
   * given), or requests are queuing and `demand` is what the activator sees right now.
   */
  poke(key: FunctionKey, demand?: DemandNow): void;
}
