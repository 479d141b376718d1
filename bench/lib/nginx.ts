// nginx as the reference reverse proxy: one worker process, a keep-alive upstream
// (`keepalive 64`, HTTP/1.1, Connection ""), everything (config, pid, logs, temp files)
// in a temporary folder, removed when it stops.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';
import { runToEnd, startChild, waitForPort, type Child } from './proc.js';

export interface RunningNginx {
  port: number;
  /** The master's; its worker is its child. */
  pid: number;
  version: string;
  stop(): Promise<void>;
}

/** Why nginx cannot be used here, or undefined when it can. */
export async function nginxUnavailable(): Promise<string | undefined> {
  const r = await runToEnd('nginx', ['-v'], 5000);
  if (r.code === null) return 'nginx is not installed (apt-get install nginx, as root)';
  return undefined;
}

export function nginxConfig(dir: string, port: number, upstream: { host: string; port: number }): string {
  return `# written by bench/lib/nginx.ts
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  upstream replica {
    server ${upstream.host}:${upstream.port};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://replica;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # The same forwarding headers the activator sets, so both proxies do the same work.
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`;
}

export async function startNginx(upstream: { host: string; port: number }): Promise<RunningNginx> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kfn-bench-nginx-'));
  // Run as root, nginx's worker is `nobody`: it must be able to reach its temp folders.
  await chmod(dir, 0o755);
  let child: Child | undefined;
  try {
    const version = (await runToEnd('nginx', ['-v'], 5000)).stderr.trim().replace(/^nginx version:\s*/, '');
    const port = await freePort();
    const conf = path.join(dir, 'nginx.conf');
    await writeFile(conf, nginxConfig(dir, port, upstream));
    const test = await runToEnd('nginx', ['-t', '-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')], 10_000);
    if (test.code !== 0) throw new Error(`nginx -t failed: ${test.stderr.trim()}`);
    // The master takes its worker down on SIGTERM; a SIGKILL would orphan the worker.
    child = startChild('nginx', 'nginx', ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')], { lastResortSignal: 'SIGTERM' });
    await waitForPort(port, 10_000, child);
    const running = child;
    return {
      port,
      pid: running.proc.pid ?? 0,
      version,
      async stop() {
        await running.stop('SIGTERM', 5000);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await child?.stop('SIGTERM', 5000);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
