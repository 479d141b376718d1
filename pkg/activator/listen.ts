// The activator on a real node http server. Keep-alive is long (clients and ingresses
// hold connections to the activator) and there is no overall request timeout: each
// function's timeoutSeconds bounds its requests, and a whole-request limit here would cut
// slow uploads and long responses that the function allows.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { sleep } from '../shared/abort.js';
import { onClientError } from '../shared/http-error.js';

export interface ListenOptions {
  port: number;
  host?: string;
  /** Idle client connections are kept this long. Default 65 s (above common LB idle timeouts of 60 s). */
  keepAliveTimeoutMs?: number;
  /** A client must send its request headers within this. Default 30 s. */
  headersTimeoutMs?: number;
  /** After close() starts, in-flight requests get this long before their connections are cut. Default 30 s. */
  closeGraceMs?: number;
}

export interface ListeningActivator {
  port: number;
  /** Stops accepting, waits for in-flight requests (up to the grace), then cuts connections. */
  close(): Promise<void>;
}

export interface ActivatorListeners {
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  readonly handleUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  readonly handleConnect?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

export async function listenActivator(
  act: ActivatorListeners,
  opts: ListenOptions,
  signal?: AbortSignal,
): Promise<ListeningActivator> {
  const server = http.createServer({ requestTimeout: 0, headersTimeout: opts.headersTimeoutMs ?? 30_000, noDelay: true }, act.handle);
  server.keepAliveTimeout = opts.keepAliveTimeoutMs ?? 65_000;
  server.on('clientError', onClientError);
  // Sockets node's HTTP server let go of (upgrades): close() cuts them past the grace, as
  // closeAllConnections() does the others.
  const detached = new Set<Duplex>();
  const detach = (socket: Duplex): void => {
    detached.add(socket);
    socket.once('close', () => detached.delete(socket));
  };
  const onUpgrade = act.handleUpgrade;
  if (onUpgrade) {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      detach(socket);
      onUpgrade(req, socket, head);
    });
  }
  const onConnect = act.handleConnect;
  if (onConnect) {
    server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      detach(socket);
      onConnect(req, socket, head);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;

  let closed: Promise<void> | undefined;
  function close(): Promise<void> {
    closed ??= (async () => {
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      // Node leaves a keep-alive connection open after its in-flight response even while
      // closing; sweep connections as they fall idle instead of waiting out the grace.
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      const stop = new AbortController();
      await Promise.race([done, sleep(opts.closeGraceMs ?? 30_000, stop.signal)]);
      stop.abort();
      clearInterval(sweep);
      server.closeAllConnections();
      for (const socket of detached) socket.destroy();
      await done;
    })();
    return closed;
  }
  if (signal) {
    if (signal.aborted) await close();
    else signal.addEventListener('abort', () => void close(), { once: true });
  }
  return { port, close };
}
