// The HTTP side of the runtime: adapts a handler to node's server, counts requests in
// flight, and drains them on shutdown.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { encodeResult, errorStatus, makeRequest, type LoadedHandler } from './handler.js';
import { errorFields, type RuntimeLog } from './log.js';

export interface RuntimeServerOptions {
  handler: LoadedHandler;
  log: RuntimeLog;
  /** Larger request bodies get 413 without reaching a plain handler. */
  maxBodyBytes: number;
  /**
   * Serve on this server, already listening, instead of a new one: a warm runtime's
   * reserved port (see reservePort). Its placeholder answer is replaced.
   */
  server?: Server;
}

export interface RuntimeServer {
  server: Server;
  inFlight(): number;
  /**
   * Stops accepting connections, closes idle keep-alive ones, and resolves once every
   * request in flight has been answered, or with 'timeout' after `timeoutMs`.
   */
  drain(timeoutMs: number): Promise<'drained' | 'timeout'>;
}

export function createRuntimeServer(opts: RuntimeServerOptions): RuntimeServer {
  const active = new Set<ServerResponse>();
  let draining = false;
  let onIdle: (() => void) | undefined;

  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    active.add(res);
    // While draining, a request that still arrives on a kept-alive connection is served,
    // and the connection closes after it.
    if (draining) res.setHeader('connection', 'close');
    res.on('close', () => {
      active.delete(res);
      if (draining) {
        server.closeIdleConnections();
        if (active.size === 0) onIdle?.();
      }
    });
    if (opts.handler.form === 'raw') runRaw(opts, req, res);
    else readBody(opts, req, res);
  };
  const server = opts.server ?? createServer();
  server.removeAllListeners('request');
  server.on('request', serve);
  // Keep-alive from the activator must outlive its idle timeout so its pooled
  // connections are not closed under it mid-request.
  server.keepAliveTimeout = 65_000;

  return {
    server,
    inFlight: () => active.size,
    drain(timeoutMs) {
      draining = true;
      for (const res of active) if (!res.headersSent) res.setHeader('connection', 'close');
      server.close();
      server.closeIdleConnections();
      if (active.size === 0) return Promise.resolve('drained');
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve('timeout'), timeoutMs);
        onIdle = () => {
          clearTimeout(timer);
          resolve('drained');
        };
      });
    },
  };
}

function readBody(opts: RuntimeServerOptions, req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (chunk: Buffer) => {
    if (tooLarge) return;
    size += chunk.length;
    if (size > opts.maxBodyBytes) {
      tooLarge = true;
      chunks.length = 0;
      res.setHeader('connection', 'close');
      sendError(res, 413, `request body is larger than ${opts.maxBodyBytes} bytes`);
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (!tooLarge) void runDefault(opts, req, res, Buffer.concat(chunks, size));
  });
  req.on('error', () => res.destroy());
}

async function runDefault(opts: RuntimeServerOptions, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  if (opts.handler.form !== 'default') return;
  let encoded;
  try {
    encoded = encodeResult(await opts.handler.handler(makeRequest(req, body)));
  } catch (err) {
    failed(opts, req, res, err);
    return;
  }
  if (res.destroyed) return;
  const { status, headers, body: out } = encoded;
  if (out !== undefined) headers['content-length'] = Buffer.byteLength(out);
  res.writeHead(status, headers);
  res.end(out);
}

function runRaw(opts: RuntimeServerOptions, req: IncomingMessage, res: ServerResponse): void {
  if (opts.handler.form !== 'raw') return;
  try {
    const r = opts.handler.handler(req, res);
    if (r instanceof Promise) r.catch((err: unknown) => failed(opts, req, res, err));
  } catch (err) {
    failed(opts, req, res, err);
  }
}

function failed(opts: RuntimeServerOptions, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  const status = errorStatus(err);
  opts.log(status >= 500 ? 'error' : 'warn', 'handler failed', {
    method: req.method,
    url: req.url,
    status,
    ...errorFields(err),
  });
  if (res.headersSent) {
    // Half a response cannot be turned into an error; cutting the connection is the
    // only honest signal left.
    res.destroy();
    return;
  }
  sendError(res, status, status >= 500 ? 'internal error in the function; see its logs' : (err as Error).message);
}

/** A JSON error answer, unless an answer was already begun. */
export function sendError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify({ error: message });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
