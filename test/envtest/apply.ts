// Server-side apply of manifests to a real API server, resolving each kind to its
// resource through the server's own discovery (so a kind the server does not serve, or a
// CRD not yet established, fails here as it would for kubectl). Used where kubectl is
// not in KUBEBUILDER_ASSETS, and to read the server's answers (warnings, status) that
// kubectl would only print.
import type { ControlPlane, HttpAnswer } from './control-plane.js';
import { loadKustomization, loadObjects } from '../config/load.js';
import { runProcess, type ProcessResult } from '../util/process.js';
import { waitFor } from '../util/wait.js';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [field: string]: unknown;
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/** `/api/v1/namespaces/ns/configmaps/name`-style path of `m`, from discovery. */
export async function resourcePath(cp: ControlPlane, m: Manifest, opts: { collection?: boolean } = {}): Promise<string> {
  const base = m.apiVersion.includes('/') ? `/apis/${m.apiVersion}` : `/api/${m.apiVersion}`;
  const res = await cp.http('GET', base);
  if (res.status !== 200) throw new Error(`discovery ${base}: ${res.status} ${res.text}`);
  const found = ((res.json as { resources?: ApiResource[] }).resources ?? []).find((r) => r.kind === m.kind && !r.name.includes('/'));
  if (!found) throw new Error(`the API server does not serve ${m.kind} in ${m.apiVersion}`);
  const ns = found.namespaced ? `/namespaces/${m.metadata.namespace ?? 'default'}` : '';
  return `${base}${ns}/${found.name}${opts.collection ? '' : `/${m.metadata.name}`}`;
}

/** PATCH application/apply-patch+yaml with strict field validation; the server's answer. */
export async function serverSideApply(cp: ControlPlane, m: Manifest, opts: { fieldManager?: string; token?: string; dryRun?: boolean } = {}): Promise<HttpAnswer> {
  const q = new URLSearchParams({ fieldManager: opts.fieldManager ?? 'kfn-envtest', fieldValidation: 'Strict', force: 'true' });
  if (opts.dryRun) q.set('dryRun', 'All');
  return cp.http('PATCH', `${await resourcePath(cp, m)}?${q.toString()}`, {
    body: m,
    contentType: 'application/apply-patch+yaml',
    ...(opts.token ? { token: opts.token } : {}),
  });
}

/** POST with strict field validation (what `kubectl create` sends); the server's answer. */
export async function create(cp: ControlPlane, m: Manifest, opts: { dryRun?: boolean; token?: string } = {}): Promise<HttpAnswer> {
  const q = new URLSearchParams({ fieldValidation: 'Strict' });
  if (opts.dryRun) q.set('dryRun', 'All');
  return cp.http('POST', `${await resourcePath(cp, m, { collection: true })}?${q.toString()}`, { body: m, ...(opts.token ? { token: opts.token } : {}) });
}

/**
 * Applies every manifest in order, waiting for each CRD to be Established before the
 * next document (a Function can only be applied once its CRD serves). Throws on the
 * first refusal, naming the object and the server's message.
 */
export async function applyAll(cp: ControlPlane, manifests: Manifest[]): Promise<{ warnings: string[] }> {
  const warnings: string[] = [];
  for (const m of manifests) {
    const res = await serverSideApply(cp, m);
    warnings.push(...res.warnings.map((w) => `${m.kind} ${m.metadata.name}: ${w}`));
    if (res.status >= 300) throw new Error(`apply ${m.kind} ${m.metadata.namespace ?? ''}/${m.metadata.name}: ${res.status} ${messageOf(res)}`);
    if (m.kind === 'CustomResourceDefinition') await waitEstablished(cp, m.metadata.name);
  }
  return { warnings };
}

export async function waitEstablished(cp: ControlPlane, crd: string): Promise<void> {
  await waitFor(`CRD ${crd} Established`, async () => {
    const res = await cp.http('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`);
    const conditions = (res.json as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? [];
    return conditions.some((c) => c.type === 'Established' && c.status === 'True');
  }, { timeoutMs: 30_000, intervalMs: 100 });
}

/** The `message` of a Status answer, else the body. */
export function messageOf(res: HttpAnswer): string {
  const message = (res.json as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : res.text;
}

/** Runs the real kubectl from the assets folder, as the admin; resolves with its exit code and output. */
export function kubectl(cp: ControlPlane, args: string[], cwd: string): Promise<ProcessResult> {
  const bin = cp.assets.kubectl;
  if (!bin) throw new Error('kubectl is not in KUBEBUILDER_ASSETS');
  return runProcess(bin, ['--kubeconfig', cp.kubeconfig(), ...args], { cwd });
}

/** config/ as kustomize renders it: the kustomization's files in order, in its namespace. */
export function configManifests(): Manifest[] {
  const k = loadKustomization();
  const clusterScoped = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding']);
  return loadObjects((k.resources ?? []).map((r) => `config/${r}`)).map((o) =>
    clusterScoped.has(o.kind) || !k.namespace ? o : { ...o, metadata: { ...o.metadata, namespace: k.namespace } },
  ) as Manifest[];
}
