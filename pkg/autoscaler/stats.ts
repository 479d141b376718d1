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
  /** End of the sample period, epoch ms. */
  time: number;
}

export interface StatSink {
  record(stat: ConcurrencyStat): void;
  /** A request is waiting for a function with no ready replica: decide now. */
  poke(key: FunctionKey): void;
}
