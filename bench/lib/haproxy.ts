// HAProxy as a second reference proxy: one process, one thread, a keep-alive upstream
// (`http-reuse always`), the same forwarding headers as the activator and nginx. Its
// config lives in a temporary folder, removed when it stops.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';
import { runToEnd, startChild, waitForPort } from './proc.js';

export interface RunningHaproxy {
  port: number;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

/** Why HAProxy cannot be used here, or undefined when it can. */
export async function haproxyUnavailable(): Promise<string | undefined> {
  const r = await runToEnd('haproxy', ['-v'], 5000);
  return r.code === null ? 'haproxy is not installed (apt-get install haproxy, as root)' : undefined;
}

export function haproxyConfig(port: number, upstream: { host: string; port: number }): string {
  return `# written by bench/lib/haproxy.ts
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 10s
  timeout client 65s
  timeout server 300s
  timeout http-keep-alive 65s
frontend bench
  bind 127.0.0.1:${port}
  option forwardfor
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  http-request set-header X-Forwarded-Proto http
  default_backend replica
backend replica
  server replica ${upstream.host}:${upstream.port} maxconn 1000
`;
}

export async function startHaproxy(upstream: { host: string; port: number }): Promise<RunningHaproxy> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kfn-bench-haproxy-'));
  try {
    const version = (await runToEnd('haproxy', ['-v'], 5000)).stdout.split('\n')[0]?.replace(/^HA-?Proxy version\s*/i, '').replace(/\s.*$/, '') ?? '';
    const port = await freePort();
    const conf = path.join(dir, 'haproxy.cfg');
    await writeFile(conf, haproxyConfig(port, upstream));
    const check = await runToEnd('haproxy', ['-c', '-q', '-f', conf], 10_000);
    if (check.code !== 0) throw new Error(`haproxy -c failed: ${check.stderr.trim() || check.stdout.trim()}`);
    // -db: stays in the foreground, one process, so its pid is the one whose CPU counts.
    const child = startChild('haproxy', 'haproxy', ['-db', '-f', conf]);
    try {
      await waitForPort(port, 10_000, child);
    } catch (err) {
      await child.stop('SIGTERM', 5000);
      throw err;
    }
    return {
      port,
      pid: child.proc.pid ?? 0,
      version,
      async stop() {
        await child.stop('SIGTERM', 5000);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
