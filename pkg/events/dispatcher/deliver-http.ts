// Hands one event to a function: a binary-mode CloudEvent POSTed through the activator,
// which starts the function from zero if it has to.
import { request } from 'undici';
import type { FunctionKey } from '../../apis/meta.js';
import type { Event } from '../cloudevents/event.js';
import { toHttpBinary } from '../cloudevents/http.js';

export interface DeliveryRequest {
  key: FunctionKey;
  /** Path on the function, starting with `/`. */
  path: string;
  event: Event;
  timeoutMs: number;
  signal: AbortSignal;
}

export type DeliveryResponse =
  | { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }
  | { error: string };

export type Deliverer = (req: DeliveryRequest) => Promise<DeliveryResponse>;

/**
 * POSTs to `<activator>/<ns>/<fn><path>`; transport failures come back as
 * `{ error: 'timeout' }` or `{ error: 'connection: …' }`, as the delivery policy reads them.
 */
export function httpDeliverer(activatorUrl: string, opts: { userAgent?: string } = {}): Deliverer {
  const base = activatorUrl.replace(/\/+$/, '');
  // The function sees who delivered; an event's own attributes travel as ce-* headers.
  const extra = opts.userAgent ? { 'user-agent': opts.userAgent } : undefined;
  return async ({ key, path, event, timeoutMs, signal }) => {
    const url = `${base}/${encodeURIComponent(key.namespace)}/${encodeURIComponent(key.name)}${path.startsWith('/') ? path : `/${path}`}`;
    const msg = toHttpBinary(event);
    try {
      const res = await request(url, {
        method: 'POST',
        headers: extra ? { ...msg.headers, ...extra } : msg.headers,
        body: msg.body,
        // undici's own timers bound the wait for the answer and each gap in its body: a
        // timer and a composite signal per event would cost more than the check itself.
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const body = Buffer.from(await res.body.arrayBuffer());
      return { status: res.statusCode, headers: res.headers, body };
    } catch (err) {
      if (signal.aborted) return { error: 'dispatcher shutting down' };
      const e = err as Error;
      if (e.name === 'TimeoutError' || e.name === 'AbortError' || /timeout/i.test(e.name)) return { error: 'timeout' };
      return { error: `connection: POST ${url}: ${e.message}` };
    }
  };
}
