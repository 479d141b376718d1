// What the cluster tests of the CLI stand on: a kubeconfig file naming test servers, and
// a real HTTP server on port 0 that records each request exactly (method, path, query,
// headers, body) and answers as a handler says, for the API server behaviour the
// in-process double does not have (server-side apply, the service proxy, pod logs).
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';

export interface KubeContext {
  name: string;
  server: string;
  token: string;
  namespace?: string;
}

/** A kubeconfig file in `dir` with one cluster and user per context; returns its path. */
export async function writeKubeconfig(dir: string, contexts: readonly KubeContext[], current: string, file = 'kubeconfig'): Promise<string> {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': current,
    clusters: contexts.map((c) => ({ name: `${c.name}-cluster`, cluster: { server: c.server, 'insecure-skip-tls-verify': true } })),
    users: contexts.map((c) => ({ name: `${c.name}-user`, user: { token: c.token } })),
    contexts: contexts.map((c) => ({
      name: c.name,
      context: { cluster: `${c.name}-cluster`, user: `${c.name}-user`, ...(c.namespace ? { namespace: c.namespace } : {}) },
    })),
  };
  const p = path.join(dir, file);
  await writeFile(p, stringify(config));
  return p;
}

export interface RecordedRequest {
  method: string;
  /** The path exactly as sent, before any decoding. */
  rawPath: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface RecordingServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  handle(h: Handler): void;
  close(): Promise<void>;
}

export async function startRecordingServer(initial: Handler = notFound): Promise<RecordingServer> {
  let handler = initial;
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawPath = (req.url ?? '/').split('?', 1)[0] ?? '/';
      const url = new URL(req.url ?? '/', 'http://x');
      const rec: RecordedRequest = {
        method: req.method ?? '',
        rawPath,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      requests.push(rec);
      Promise.resolve(handler(rec, res)).catch((err: unknown) => res.destroy(err as Error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    handle: (h) => (handler = h),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** A metav1.Status failure, as the API server sends it. */
export function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function notFound(_req: RecordedRequest, res: ServerResponse): void {
  sendJson(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
}
