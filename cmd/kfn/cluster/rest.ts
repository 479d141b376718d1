// HTTP to the API server with the kubeconfig's credentials and TLS settings. client-node's
// KubeConfig.applyToHTTPSOptions fills in the CA, client certificate, bearer token (exec
// and auth-provider plugins included) and proxy agent; the request itself is node's, so
// the CLI sees every status and the API server's own error message (client-node's Log
// class, for one, turns every refusal into "Error occurred in log request").
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { statusFromBody } from '../../../pkg/controller/api-status.js';
import { userAgent } from '../../../pkg/shared/user-agent.js';
import { CliError } from '../client.js';

/** `kfn-cli/<version> (…)`: audit logs and managedFields of reads name the CLI and its version. */
export const USER_AGENT = userAgent('kfn-cli');

export interface KubeRequest {
  query?: URLSearchParams;
  headers?: Record<string, string>;
  body?: string | Buffer;
  signal?: AbortSignal;
}

export interface KubeResponse {
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
  body: Buffer;
}

export class KubeRest {
  constructor(
    private readonly kubeConfig: KubeConfig,
    /** The API server's URL; a path prefix (as some gateways use) is kept. */
    readonly server: string,
    /** Named in "cannot reach" errors: `context prod (https://…)`. */
    private readonly where: string,
  ) {}

  /** The response with its body unread; the caller consumes or destroys it. */
  async open(method: string, path: string, req: KubeRequest = {}): Promise<IncomingMessage> {
    const url = new URL(this.server.replace(/\/+$/, '') + path);
    if (req.query) url.search = req.query.toString();
    const opts: https.RequestOptions = {
      method,
      headers: { 'user-agent': USER_AGENT, accept: 'application/json, */*', ...req.headers },
      ...(req.signal ? { signal: req.signal } : {}),
    };
    try {
      await this.kubeConfig.applyToHTTPSOptions(opts);
    } catch (err) {
      throw new CliError(`cannot use the kubeconfig's settings for ${this.where}: ${(err as Error).message}`, { cause: err });
    }
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const r = transport.request(url, opts, resolve);
      r.once('error', (err) => {
        if (req.signal?.aborted) reject(err);
        else reject(new CliError(`cannot reach the API server of ${this.where}: ${err.message}`, { cause: err }));
      });
      r.end(req.body);
    });
  }

  async request(method: string, path: string, req: KubeRequest = {}): Promise<KubeResponse> {
    const res = await this.open(method, path, req);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const headers: Array<[string, string]> = [];
    for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.push([res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string]);
    return { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers, body: Buffer.concat(chunks) };
  }
}

/** The API server's own words for a refused request, else the HTTP status. */
export function refusal(res: KubeResponse): string {
  const st = statusFromBody(res.body);
  if (st?.message) return st.message;
  const text = res.body.toString().trim().split('\n', 1)[0] ?? '';
  return `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
}
