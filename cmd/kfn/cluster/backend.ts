// The resource commands against a cluster, through the kubeconfig's API server.
import { GROUP, VERSION } from '../../../pkg/apis/meta.js';
import { CONTAINER_NAME, LABEL_FUNCTION } from '../../../pkg/contracts/workload.js';
import { CliError } from '../client.js';
import {
  SINGULAR,
  type ApplyOptions,
  type ApplyOutcome,
  type Backend,
  type InvokeRequest,
  type InvokeResponse,
  type LogsOutput,
  type LogsRequest,
  type ManifestSource,
  type Plural,
  type Resource,
} from '../backend.js';
import { planApply, type ApplyPatch } from './apply.js';
import type { ClusterTarget } from './kubeconfig.js';
import { activatorProxyPath, refusedProxyHeader } from './proxy.js';
import { statusFromBody } from '../../../pkg/controller/api-status.js';
import { KubeRest, refusal, type KubeResponse } from './rest.js';
import { followLines } from './lines.js';

/** The field manager of everything `kfn apply` writes; `kubectl get -o yaml --show-managed-fields` shows it. */
export const FIELD_MANAGER = 'kfn-cli';

export class ClusterBackend implements Backend {
  readonly listsAllNamespacesByDefault = false;
  readonly where: string;
  private readonly rest: KubeRest;

  constructor(private readonly target: ClusterTarget) {
    this.where = `context ${target.context} (${target.server})`;
    this.rest = new KubeRest(target.kubeConfig, target.server, this.where);
  }

  get defaultNamespace(): string {
    return this.target.namespace;
  }

  async list(plural: Plural, namespace: string | undefined): Promise<Resource[]> {
    const res = await this.rest.request('GET', resourcePath(plural, namespace));
    if (res.status !== 200) throw this.refused(`list ${plural}`, res);
    return this.json<{ items?: Resource[] }>(res, `list ${plural}`).items ?? [];
  }

  async get(plural: Plural, namespace: string, name: string): Promise<Resource> {
    const res = await this.rest.request('GET', resourcePath(plural, namespace, name));
    if (res.status === 404) throw new CliError(`${SINGULAR[plural]} ${namespace}/${name} not found (${this.where})`);
    if (res.status !== 200) throw this.refused(`get ${SINGULAR[plural]} ${namespace}/${name}`, res);
    return this.json<Resource>(res, `get ${SINGULAR[plural]} ${namespace}/${name}`);
  }

  /**
   * Server-side apply, as `kubectl apply --server-side` does: the API server merges what the
   * manifest sets and records kfn-cli as the owner of those fields. force=false, so a field
   * another manager owns (kubectl, a GitOps tool) is a 409 naming that manager, not taken
   * over, unless --force-conflicts. The Kubernetes API has no transaction: everything is
   * validated first, and at the first refused write the rest is left unsent and listed.
   */
  async apply(sources: readonly ManifestSource[], opts: ApplyOptions): Promise<ApplyOutcome> {
    const plan = planApply(sources, { namespace: opts.namespace, defaultNamespace: this.target.namespace });
    const out: ApplyOutcome = { applied: [], problems: plan.problems };
    for (const [i, p] of plan.patches.entries()) {
      const res = await this.rest.request('PATCH', resourcePath(p.plural, p.namespace, p.name), {
        query: new URLSearchParams({ fieldManager: FIELD_MANAGER, force: String(opts.forceConflicts) }),
        headers: { 'content-type': 'application/apply-patch+yaml' },
        // JSON is YAML: the apply-patch+yaml media type takes it as is.
        body: JSON.stringify(p.object),
      });
      if (res.status === 200 || res.status === 201) {
        out.applied.push({ kind: p.kind, namespace: p.namespace, name: p.name, action: res.status === 201 ? 'created' : 'serverside-applied' });
        continue;
      }
      out.problems.push(`${p.kind} ${p.namespace}/${p.name}: ${applyRefusal(res)}`);
      const left = plan.patches.slice(i + 1);
      if (left.length > 0) out.problems.push(`not applied: ${left.map(describe).join(', ')}`);
      break;
    }
    return out;
  }

  async delete(plural: Plural, namespace: string, name: string): Promise<void> {
    const res = await this.rest.request('DELETE', resourcePath(plural, namespace, name));
    if (res.status === 404) throw new CliError(`${SINGULAR[plural]} ${namespace}/${name} not found (${this.where})`);
    if (res.status !== 200 && res.status !== 202) throw this.refused(`delete ${SINGULAR[plural]} ${namespace}/${name}`, res);
  }

  async invoke(req: InvokeRequest): Promise<InvokeResponse> {
    const headers: Record<string, string> = {};
    for (const [k, v] of req.headers) {
      const why = refusedProxyHeader(k);
      if (why) throw new CliError(`-H "${k}" cannot be sent through the API server's service proxy: ${why}`);
      const key = k.toLowerCase();
      headers[key] = headers[key] === undefined ? v : `${headers[key]}, ${v}`;
    }
    const path = activatorProxyPath(req.namespace, req.name, req.path);
    const res = await this.rest.request(req.method, path, { headers, ...(req.body === undefined ? {} : { body: req.body }) });
    // The API server answers for itself with a metav1.Status (403 without services/proxy,
    // 503 when no activator pod is ready); anything else is the activator's or the function's.
    const st = res.status >= 400 ? statusFromBody(res.body) : undefined;
    if (st) {
      // 404: no such Service (kfn not installed); 503: no ready activator endpoint.
      const hint = res.status === 404 || res.status === 503 ? '; is kfn installed and its activator ready? (kubectl -n kfn-system get pods)' : '';
      throw new CliError(`the API server could not proxy to the activator (${this.where}): ${st.message || `HTTP ${res.status}`}${hint}`);
    }
    return res;
  }

  async logs(req: LogsRequest, out: LogsOutput): Promise<void> {
    const fn = `${req.namespace}/${req.name}`;
    const pods = await this.rest.request('GET', `/api/v1/namespaces/${encodeURIComponent(req.namespace)}/pods`, {
      query: new URLSearchParams({ labelSelector: `${LABEL_FUNCTION}=${req.name}` }),
    });
    if (pods.status !== 200) throw this.refused(`list the pods of function ${fn}`, pods);
    const names = (this.json<{ items?: Array<{ metadata?: { name?: string } }> }>(pods, `list the pods of function ${fn}`).items ?? [])
      .map((p) => p.metadata?.name)
      .filter((n): n is string => typeof n === 'string')
      .sort();
    if (names.length === 0) {
      out.warn(`function ${fn} has no pods (${this.where}): scaled to zero, or not created yet`);
      return;
    }
    const query = new URLSearchParams({ container: CONTAINER_NAME, follow: String(req.follow) });
    if (req.sinceSeconds !== undefined) query.set('sinceSeconds', String(req.sinceSeconds));
    if (req.tailLines !== undefined) query.set('tailLines', String(req.tailLines));
    let failed = 0;
    await Promise.all(
      names.map(async (pod) => {
        try {
          const res = await this.rest.open('GET', `/api/v1/namespaces/${encodeURIComponent(req.namespace)}/pods/${encodeURIComponent(pod)}/log`, { query, signal: req.signal });
          if (res.statusCode !== 200) {
            const chunks: Buffer[] = [];
            for await (const c of res) chunks.push(c as Buffer);
            const body = Buffer.concat(chunks);
            throw new CliError(statusFromBody(body)?.message || `HTTP ${res.statusCode}`);
          }
          await followLines(res, (line) => out.line(`[${pod}] ${line}`), req.signal);
        } catch (err) {
          if (req.signal.aborted) return;
          failed++;
          out.warn(`[${pod}] ${(err as Error).message}`);
        }
      }),
    );
    if (failed === names.length) throw new CliError(`no logs from any pod of function ${fn}`);
  }

  /** The body as JSON; a gateway's HTML page in front of the API server is an error, not a crash. */
  private json<T>(res: KubeResponse, what: string): T {
    try {
      return JSON.parse(res.body.toString()) as T;
    } catch (err) {
      const type = res.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? 'no content type';
      throw new CliError(`cannot ${what} (${this.where}): the answer is not JSON (HTTP ${res.status}, ${type}); is the kubeconfig's server an API server?`, { cause: err });
    }
  }

  private refused(what: string, res: KubeResponse): CliError {
    return new CliError(`cannot ${what} (${this.where}): ${refusal(res)}`);
  }
}

export function resourcePath(plural: Plural, namespace: string | undefined, name?: string): string {
  const base = `/apis/${GROUP}/${VERSION}`;
  const ns = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${base}${ns}/${plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

/** The server's message; for a conflict, what to do about the other manager's fields. */
function applyRefusal(res: KubeResponse): string {
  const msg = refusal(res);
  if (res.status !== 409) return msg;
  return `${msg} (another field manager owns these fields: change them with the tool that set them, or rerun with --force-conflicts to take them over)`;
}

function describe(p: ApplyPatch): string {
  return `${p.kind.toLowerCase()}.kfn.dev/${p.name}`;
}
