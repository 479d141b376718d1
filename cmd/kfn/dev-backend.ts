// The resource commands against a running `kfn dev`, through its admin API.
import { errorOf } from '../../pkg/shared/http-error.js';
import { adminRequest, CliError } from './client.js';
import { SINGULAR, type ApplyOptions, type ApplyOutcome, type Backend, type InvokeRequest, type InvokeResponse, type ManifestSource, type Plural, type Resource } from './backend.js';

interface ApplyResponse {
  results?: Array<{ kind: 'Function' | 'Trigger'; key: { namespace: string; name: string }; action: string }>;
}

export class DevBackend implements Backend {
  readonly defaultNamespace = 'default';
  readonly listsAllNamespacesByDefault = true;

  constructor(
    private readonly admin: string,
    /** Sent as Authorization: Bearer on every request, when kfn dev wants one. */
    private readonly token?: string,
  ) {}

  get where(): string {
    return `kfn dev at ${this.admin}`;
  }

  async list(plural: Plural, namespace: string | undefined): Promise<Resource[]> {
    const res = await adminRequest<{ items: Resource[] }>(this.admin, 'GET', `/api/${plural}`, undefined, this.token);
    if (res.status !== 200) throw new CliError(`${errorOf(res.body)?.message ?? `HTTP ${res.status}`} (from ${this.admin}/api/${plural})`);
    return res.body.items.filter((r) => namespace === undefined || (r.metadata.namespace ?? 'default') === namespace);
  }

  async get(plural: Plural, namespace: string, name: string): Promise<Resource> {
    const res = await adminRequest<Resource>(this.admin, 'GET', `/api/${plural}/${enc(namespace)}/${enc(name)}`, undefined, this.token);
    if (res.status !== 200) throw new CliError(errorOf(res.body)?.message ?? `HTTP ${res.status}`);
    return res.body;
  }

  /** kfn dev validates each file whole: a file with a bad document changes nothing. */
  async apply(sources: readonly ManifestSource[], opts: ApplyOptions): Promise<ApplyOutcome> {
    if (opts.namespace !== undefined) throw new CliError('kfn apply -n works against a cluster only; in kfn dev set metadata.namespace in the manifest');
    const out: ApplyOutcome = { applied: [], problems: [] };
    for (const { source, dir, text } of sources) {
      const res = await adminRequest<ApplyResponse>(this.admin, 'POST', '/api/apply', { manifest: text, dir, source }, this.token);
      if (res.status === 200 && res.body.results) {
        for (const r of res.body.results) out.applied.push({ kind: r.kind, namespace: r.key.namespace, name: r.key.name, action: r.action });
      } else {
        const e = errorOf(res.body);
        out.problems.push(...(e?.problems ?? [e?.message ?? `HTTP ${res.status}`]));
      }
    }
    return out;
  }

  async delete(plural: Plural, namespace: string, name: string): Promise<void> {
    const res = await adminRequest<unknown>(this.admin, 'DELETE', `/api/${plural}/${enc(namespace)}/${enc(name)}`, undefined, this.token);
    if (res.status !== 200) throw new CliError(errorOf(res.body)?.message ?? `HTTP ${res.status} deleting ${SINGULAR[plural]} ${namespace}/${name}`);
  }

  async invoke(req: InvokeRequest): Promise<InvokeResponse> {
    const info = await adminRequest<{ activator?: string }>(this.admin, 'GET', '/api/info', undefined, this.token);
    const activator = info.body.activator;
    if (info.status !== 200 || !activator) throw new CliError(`kfn dev at ${this.admin} did not say where its activator listens (HTTP ${info.status})`);
    const url = `${activator}/${enc(req.namespace)}/${enc(req.name)}${req.path}`;
    let res: Response;
    try {
      res = await fetch(url, { method: req.method, headers: req.headers, body: req.body ?? null });
    } catch (err) {
      throw new CliError(`cannot reach the activator at ${activator}: ${String((err as Error).cause ?? err)}`, { cause: err });
    }
    const headers: Array<[string, string]> = [];
    res.headers.forEach((v, k) => headers.push([k, v]));
    return { status: res.status, statusText: res.statusText, headers, body: Buffer.from(await res.arrayBuffer()) };
  }

  logs(): Promise<void> {
    // Replica output goes to kfn dev's own log today; another issue covers reading it back.
    return Promise.reject(new CliError("kfn logs is not available in kfn dev yet: a replica's output is in kfn dev's own log (the terminal it runs in); pass --cluster for a cluster's functions"));
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}
