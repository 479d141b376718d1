// The per-replica breaker: how many requests a replica has in flight from this activator
// against its containerConcurrency. Kept by the throttler, which only hands a replica out
// when it has a free slot.
import type { ReadyEndpoint } from '../platform/types.js';
import type { Candidate } from './lb.js';

/** What the proxy needs to reach the replica; built once, not per request. */
export interface ProxyTarget {
  protocol: 'http:';
  host: string;
  port: number;
  /** `http://host:port`, bracketed for IPv6. */
  origin: string;
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
    const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
    this.address = `${host}:${endpoint.port}`;
    this.target = { protocol: 'http:', host: endpoint.host, port: endpoint.port, origin: `http://${this.address}` };
  }

  sameAddress(e: ReadyEndpoint): boolean {
    return this.endpoint.host === e.host && this.endpoint.port === e.port;
  }
}
