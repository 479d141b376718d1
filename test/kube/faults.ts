// Test hooks on the request path: injected failures, write latency and a log of what was asked.
import { failure, type Status } from './status.js';

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  watch: boolean;
  /** The response status; 0 until the response has started. */
  status: number;
}

interface PlannedFailure {
  method: string;
  path: RegExp;
  status: number;
  remaining: number;
  message?: string | undefined;
}

export class Faults {
  private readonly planned: PlannedFailure[] = [];
  readonly requests: RequestRecord[] = [];
  writeLatencyMs = 0;

  /** The next `times` requests matching method ('*' for any) and path get `status` instead. */
  failNext(method: string, path: RegExp, status: number, times = 1, message?: string): void {
    this.planned.push({ method: method.toUpperCase(), path, status, remaining: times, message });
  }

  /** Consumes a planned failure for this request, if one matches. */
  take(method: string, path: string): Status | undefined {
    const p = this.planned.find((f) => f.remaining > 0 && (f.method === '*' || f.method === method) && f.path.test(path));
    if (!p) return undefined;
    p.remaining--;
    return failure(p.status, p.message ?? `injected failure: ${method} ${path}`);
  }

  pending(): number {
    return this.planned.reduce((n, p) => n + p.remaining, 0);
  }
}
