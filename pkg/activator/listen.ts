// The activator on a real node http server. Keep-alive is long (clients and ingresses
// hold connections to the activator) and there is no overall request timeout: each
// function's timeoutSeconds bounds its requests, and a whole-request limit here would cut
// slow uploads and long responses that the function allows. HTTP/2 with prior knowledge
// (h2c, gRPC) is taken on the same port when the activator handles streams (h2c-listen.ts).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { sleep } from '../shared/abort.js';
import { onClientError } from '../shared/http-error.js';
import { acceptH2c } from './h2c-listen.js';
import { offersOnlyH2c } from './upgrade-rules.js';

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
  readonly handleStream?: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;
}

export async function listenActivator(
  act: ActivatorListeners,
  opts: ListenOptions,
  signal?: AbortSignal,
): Promise<ListeningActivator> {
  const headersTimeout = opts.headersTimeoutMs ?? 30_000;
  const server: http.Server = http.createServer(
    {
      requestTimeout: 0,
      headersTimeout,
      noDelay: true,
      // An offer of h2c alone is declined by answering it as HTTP/1.1 (offersOnlyH2c).
      shouldUpgradeCallback: (req: IncomingMessage): boolean => server.listenerCount('upgrade') > 0 && !offersOnlyH2c(req.headers.upgrade),
    },
    act.handle,
  );
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

  const sessions = new Set<ServerHttp2Session>();
  const onStream = act.handleStream;
  if (onStream) {
    const h2 = http2.createServer();
    h2.on('stream', onStream);
    h2.on('session', (session: ServerHttp2Session) => {
      sessions.add(session);
      session.on('error', () => {}); // a client's protocol error; 'close' follows
      session.once('close', () => sessions.delete(session));
    });
    acceptH2c(server, h2, headersTimeout);
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
      // GOAWAY: HTTP/2 clients open no new streams, the ones in flight finish.
      for (const s of sessions) s.close();
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
      for (const s of sessions) s.destroy();
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
