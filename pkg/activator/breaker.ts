// The per-replica breaker: how many requests a replica has in flight from this activator
// against its containerConcurrency. Kept by the throttler, which only hands a replica out
// when it has a free slot.
import type { ReadyEndpoint } from '../platform/types.js';
import type { Candidate } from './lb.js';

/** What http-proxy needs to reach the replica; built once, not per request. */
export interface ProxyTarget {
  protocol: 'http:';
  host: string;
  port: number;
}

export class Replica implements Candidate {
  inFlight = 0;
  /** Set when the replica left the endpoint set: it gets no new requests, in-flight ones finish. */
  removed = false;
  readonly target: ProxyTarget;
  /** `host:port`, for error messages. */
  readonly address: string;

  constructor(
    readonly endpoint: ReadyEndpoint,
    public capacity: number,
  ) {
    this.target = { protocol: 'http:', host: endpoint.host, port: endpoint.port };
    this.address = `${endpoint.host}:${endpoint.port}`;
  }

  sameAddress(e: ReadyEndpoint): boolean {
    return this.endpoint.host === e.host && this.endpoint.port === e.port;
  }
}
