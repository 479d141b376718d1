// The two handler forms a function module may export, and how a plain handler's return
// value becomes an HTTP response.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

export interface FunctionRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body as UTF-8. */
  text(): string;
  /** The body parsed as JSON; throws an error with `status: 400` when it is not JSON. */
  json(): unknown;
}

export type ResponseBody = string | Buffer | Uint8Array | object | null | undefined;

export interface FunctionResponse {
  status?: number;
  headers?: Record<string, string | number | readonly string[]>;
  body?: ResponseBody;
}

/** `export default async function (req) { return … }`: buffered request, returned response. */
export type Handler = (req: FunctionRequest) => unknown;

/** `export function raw(req, res)`: node's own objects, for streaming either way. */
export type RawHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

export type LoadedHandler = { form: 'default'; handler: Handler } | { form: 'raw'; handler: RawHandler };

/** Picks the handler out of a loaded module; `raw` wins when both are exported. */
export function pickHandler(mod: Record<string, unknown>): LoadedHandler | undefined {
  if (typeof mod.raw === 'function') return { form: 'raw', handler: mod.raw as RawHandler };
  if (typeof mod.default === 'function') return { form: 'default', handler: mod.default as Handler };
  return undefined;
}

export function makeRequest(req: IncomingMessage, body: Buffer): FunctionRequest {
  const url = new URL(req.url ?? '/', 'http://function.local');
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers: req.headers,
    body,
    text: () => body.toString('utf8'),
    json: () => {
      try {
        return JSON.parse(body.toString('utf8')) as unknown;
      } catch (err) {
        throw Object.assign(new Error(`request body is not JSON: ${(err as Error).message}`), { status: 400 });
      }
    },
  };
}

const ENVELOPE_KEYS = new Set(['status', 'headers', 'body']);

/**
 * `{ status?, headers?, body? }` is a response envelope when it has nothing else and its
 * status, if any, is a number; any other object is a JSON body.
 */
function isEnvelope(v: object): v is FunctionResponse {
  const keys = Object.keys(v);
  if (keys.length === 0 || !keys.every((k) => ENVELOPE_KEYS.has(k))) return false;
  const status = (v as FunctionResponse).status;
  return status === undefined || typeof status === 'number';
}

export interface EncodedResponse {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer | string | undefined;
}

/** Turns whatever a handler returned into status, headers and bytes. */
export function encodeResult(result: unknown): EncodedResponse {
  if (result === undefined) return { status: 204, headers: {}, body: undefined };
  const envelope: FunctionResponse =
    typeof result === 'object' && result !== null && !isBytes(result) && isEnvelope(result)
      ? result
      : { body: result };
  const headers: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(envelope.headers ?? {})) headers[k.toLowerCase()] = typeof v === 'object' ? [...v] : v;
  const { body } = envelope;
  let bytes: Buffer | string | undefined;
  let type: string | undefined;
  if (body === undefined || body === null) bytes = undefined;
  else if (typeof body === 'string') [bytes, type] = [body, 'text/plain; charset=utf-8'];
  else if (isBytes(body)) [bytes, type] = [Buffer.from(body.buffer, body.byteOffset, body.byteLength), 'application/octet-stream'];
  else [bytes, type] = [JSON.stringify(body), 'application/json; charset=utf-8'];
  if (type && headers['content-type'] === undefined) headers['content-type'] = type;
  return { status: envelope.status ?? 200, headers, body: bytes };
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

/** The status a thrown error asks for: its own 4xx/5xx `status`/`statusCode`, else 500. */
export function errorStatus(err: unknown): number {
  if (typeof err !== 'object' || err === null) return 500;
  const s = (err as { status?: unknown; statusCode?: unknown }).status ?? (err as { statusCode?: unknown }).statusCode;
  return typeof s === 'number' && Number.isInteger(s) && s >= 400 && s <= 599 ? s : 500;
}
