// HTTP/2 cleartext with prior knowledge (how gRPC clients speak h2c) on the activator's one
// port, beside HTTP/1.1. Node's HTTP/1 server cannot take h2c (http2.createServer's
// allowHTTP1 is for TLS only: over cleartext an HTTP/1.1 request is a protocol error), so
// each new connection's first bytes are looked at once: HTTP/2's connection preface
// (RFC 9113 §3.4) hands the socket to an http2 server, anything else to the HTTP/1
// server's own connection listener. The cost is per connection, not per request: one
// read and an unshift before the HTTP/1 parser takes the socket; a keep-alive connection
// pays it once.
import type http from 'node:http';
import type http2 from 'node:http2';
import type { Socket } from 'node:net';

/** The client connection preface of RFC 9113 §3.4. */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Whether a connection's first bytes are HTTP/2's preface; undefined while too few to tell. */
export function isH2Preface(first: Buffer): boolean | undefined {
  const n = Math.min(first.length, PREFACE.length);
  if (first.compare(PREFACE, 0, n, 0, n) !== 0) return false;
  return n === PREFACE.length ? true : undefined;
}

/**
 * Routes `server`'s new connections by their first bytes: HTTP/2 to `h2`, the rest to
 * `server` as before. A client that sends nothing within `firstBytesTimeoutMs` is cut, as
 * node's headersTimeout would have cut it.
 */
export function acceptH2c(server: http.Server, h2: http2.Http2Server, firstBytesTimeoutMs: number): void {
  const listeners = server.listeners('connection') as Array<(socket: Socket) => void>;
  const http1 = listeners[0];
  if (listeners.length !== 1 || !http1) throw new Error(`expected node's HTTP server to have one connection listener, found ${listeners.length}`);
  server.removeListener('connection', http1);
  server.on('connection', (socket: Socket) => {
    let first: Buffer | undefined;
    const onError = (): void => void socket.destroy();
    const onTimeout = (): void => void socket.destroy();
    const onData = (chunk: Buffer): void => {
      first = first ? Buffer.concat([first, chunk]) : chunk;
      const isH2 = isH2Preface(first);
      if (isH2 === undefined) return;
      socket.off('data', onData);
      socket.off('error', onError);
      socket.setTimeout(0);
      socket.off('timeout', onTimeout);
      socket.pause();
      socket.unshift(first);
      if (isH2) {
        // Its session reads what is buffered on the socket when it attaches.
        h2.emit('connection', socket);
      } else {
        http1.call(server, socket);
        socket.resume();
      }
    };
    socket.on('error', onError);
    socket.on('data', onData);
    socket.setTimeout(firstBytesTimeoutMs);
    socket.on('timeout', onTimeout);
  });
}
