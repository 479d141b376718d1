// A function's spec.loadBalancing, compiled once per spec change into what the throttler
// reads per request; and the hash key of a request, read only for consistentHash
// functions, so the default path neither looks at headers nor allocates for it.
import { parseCookie } from 'cookie';
import type { LoadBalancingSpec } from '../apis/function/types.js';
import { parseDuration } from '../shared/duration.js';
import { hashString } from './hash.js';
import { DEFAULT_OUTLIER, type OutlierPolicy } from './outlier.js';

export type HashOn = { readonly kind: 'header'; readonly name: string } | { readonly kind: 'cookie'; readonly name: string } | { readonly kind: 'clientAddress' };

export interface Balancing {
  readonly policy: 'default' | 'leastRequest' | 'consistentHash';
  /** leastRequest's draws per pick. */
  readonly choiceCount: number;
  /** What consistentHash hashes; undefined for the other policies. */
  readonly hashOn: HashOn | undefined;
  /** Off when undefined. */
  readonly outlier: OutlierPolicy | undefined;
}

export const DEFAULT_BALANCING: Balancing = { policy: 'default', choiceCount: 2, hashOn: undefined, outlier: undefined };

/** The settings of a validated spec.loadBalancing (unset → the default policy, no ejection). */
export function balancingOf(spec: LoadBalancingSpec | undefined): Balancing {
  if (!spec) return DEFAULT_BALANCING;
  const policy = spec.policy ?? 'default';
  const hash = spec.consistentHash;
  let hashOn: HashOn | undefined;
  if (policy === 'consistentHash' && hash) {
    // Header names are case-insensitive (RFC 9110 §5.1); cookie names are not (RFC 6265 §5.4).
    if (hash.header) hashOn = { kind: 'header', name: hash.header.toLowerCase() };
    else if (hash.cookie) hashOn = { kind: 'cookie', name: hash.cookie };
    else if (hash.clientAddress) hashOn = { kind: 'clientAddress' };
  }
  const od = spec.outlierDetection;
  const outlier: OutlierPolicy | undefined = od
    ? {
        consecutive5xx: od.consecutive5xx ?? DEFAULT_OUTLIER.consecutive5xx,
        baseEjectionMs: durationMs(od.baseEjectionTime) ?? DEFAULT_OUTLIER.baseEjectionMs,
        maxEjectionMs: durationMs(od.maxEjectionTime) ?? DEFAULT_OUTLIER.maxEjectionMs,
        maxEjectionPercent: od.maxEjectionPercent ?? DEFAULT_OUTLIER.maxEjectionPercent,
      }
    : undefined;
  return { policy, choiceCount: spec.leastRequest?.choiceCount ?? 2, hashOn, outlier };
}

function durationMs(s: string | undefined): number | undefined {
  return s === undefined ? undefined : parseDuration(s);
}

export function sameBalancing(a: Balancing, b: Balancing): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The request's hash key, or undefined when it has none (no such header or cookie, no
 * client address): such a request is balanced by the default policy. `headers` is the
 * raw name/value list the replica gets.
 */
export function hashKeyOf(on: HashOn, headers: readonly string[], clientAddress: string | undefined): number | undefined {
  if (on.kind === 'clientAddress') return clientAddress === undefined ? undefined : hashString(clientAddress);
  const want = on.kind === 'header' ? on.name : 'cookie';
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] as string;
    if (name.length !== want.length || name.toLowerCase() !== want) continue;
    const value = headers[i + 1] as string;
    if (on.kind === 'header') return hashString(value);
    const cookie = cookieValue(value, on.name);
    if (cookie !== undefined) return hashString(cookie);
  }
  return undefined;
}

/**
 * The value of cookie `name` in a Cookie header (RFC 6265 §4.2.1: `a=1; b=2`), as sent
 * (not URI-decoded: any stable key will do); undefined when absent. The first of two
 * same-named cookies wins, as the `cookie` library reads them.
 */
export function cookieValue(header: string, name: string): string | undefined {
  return parseCookie(header, AS_SENT)[name];
}

const AS_SENT = { decode: (value: string): string => value };
