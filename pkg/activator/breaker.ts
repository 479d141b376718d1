// The per-replica breaker: how many requests a replica has in flight from this activator
// against its containerConcurrency. Kept by the throttler, which only hands a replica out
// when it has a free slot.
import type { ReadyEndpoint } from '../platform/types.js';
import { hashString, type HashCandidate } from './hash.js';
import type { Candidate } from './lb.js';
import type { OutlierState } from './outlier.js';

/**
 * What the proxy needs to reach a replica. Its identity names the replica: connections
 * are kept per target object.
 */
export interface ProxyTarget {
  readonly host: string;
  readonly port: number;
}

/**
 * A ready replica, and its own proxy target. Nothing is derived from the endpoint up front
 * (address strings, a target object): an activator routing 10,000 functions holds a
 * Replica for every endpoint, and most of them are never called.
 */
export class Replica implements Candidate, HashCandidate, OutlierState, ProxyTarget {
  inFlight = 0;
  /** Set when the replica left the endpoint set: it gets no new requests, in-flight ones finish. */
  removed = false;
  consecutiveFailures = 0;
  ejections = 0;
  ejectedUntil = 0;
  /** hashString(endpoint.id), computed by the first consistentHash pick; -1 before. */
  private idHash = -1;

  constructor(
    readonly endpoint: ReadyEndpoint,
    public capacity: number,
  ) {}

  get host(): string {
    return this.endpoint.host;
  }

  get port(): number {
    return this.endpoint.port;
  }

  get hashId(): number {
    if (this.idHash < 0) this.idHash = hashString(this.endpoint.id);
    return this.idHash;
  }

  get target(): ProxyTarget {
    return this;
  }

  /** `host:port`, for error messages. */
  get address(): string {
    return hostPort(this);
  }

  sameAddress(e: ReadyEndpoint): boolean {
    return this.endpoint.host === e.host && this.endpoint.port === e.port;
  }
}

/** `host:port`, the host bracketed when it is IPv6. */
export function hostPort(t: ProxyTarget): string {
  return t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}
