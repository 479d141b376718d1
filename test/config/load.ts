// Loads the YAML under config/ and samples/ the way kubectl reads it (every document of
// every file), and gives the tests in this folder narrow types for what they look at.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** The repository root, found from this file whether it runs from test/ or from dist/test/. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    assert.notEqual(parent, dir, 'package.json not found above this test');
    dir = parent;
  }
  return dir;
}

export const fromRoot = (p: string): string => path.join(repoRoot(), p);

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** One document of one file, as parsed; `object` is undefined for an empty document. */
export interface Doc {
  /** Path from the repository root, e.g. `config/400-activator.yaml`. */
  file: string;
  index: number;
  value: unknown;
  errors: string[];
}

/** YAML files below `dir` (relative to the root), sorted; `recursive` walks sub-folders. */
export function yamlFiles(dir: string, recursive: boolean): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(fromRoot(rel), { withFileTypes: true })) {
      const child = path.posix.join(rel, entry.name);
      if (entry.isDirectory()) {
        if (recursive && entry.name !== 'node_modules') walk(child);
      } else if (/\.ya?ml$/.test(entry.name)) out.push(child);
    }
  };
  walk(dir);
  return out.sort();
}

export function loadDocs(file: string): Doc[] {
  const text = readFileSync(fromRoot(file), 'utf8');
  return parseAllDocuments(text, { uniqueKeys: true }).map((d, index) => ({
    file,
    index,
    value: d.toJS() as unknown,
    errors: [...d.errors, ...d.warnings].map((e) => e.message),
  }));
}

/** The Kubernetes objects of `files`, skipping empty documents as kubectl does. */
export function loadObjects(files: string[]): K8sObject[] {
  return files.flatMap((f) => loadDocs(f)).filter((d) => d.value !== null && d.value !== undefined).map((d) => d.value as K8sObject);
}

/** The files `kubectl apply -k config/` reads, i.e. config/ without the kustomization itself. */
export const KUSTOMIZATION = 'config/kustomization.yaml';
export const configFiles = (): string[] => yamlFiles('config', false).filter((f) => f !== KUSTOMIZATION);

export interface Kustomization {
  namespace?: string;
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

export const loadKustomization = (): Kustomization => loadDocs(KUSTOMIZATION)[0]?.value as Kustomization;

// Kinds without a namespace. Anything else that config/ holds is namespaced.
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'PriorityClass', 'StorageClass',
  'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'APIService',
]);

export const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const ref = (o: K8sObject): string => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

// ---- the parts of workloads the tests read ------------------------------------------

export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}

export interface Probe {
  httpGet?: { path: string; port: string | number };
  tcpSocket?: { port: string | number };
  exec?: { command: string[] };
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: SecurityContext;
  containers: Container[];
  initContainers?: Container[];
  volumes?: ({ name: string } & Record<string, unknown>)[];
}

export interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    serviceName?: string;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
    volumeClaimTemplates?: { metadata: { name: string } }[];
  };
}

export interface Service extends K8sObject {
  spec: {
    clusterIP?: string;
    /** Absent on a Service whose endpoints someone writes (kfn-autoscaler: its leader). */
    selector?: Record<string, string>;
    ports: { name?: string; port: number; targetPort?: string | number }[];
  };
}

export const WORKLOAD_KINDS: ReadonlySet<string> = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

export const workloads = (objs: K8sObject[]): Workload[] => objs.filter((o) => WORKLOAD_KINDS.has(o.kind)) as Workload[];

export const services = (objs: K8sObject[]): Service[] => objs.filter((o) => o.kind === 'Service') as Service[];

/** True when every label of `selector` is on `labels`. */
export const selects = (selector: Record<string, string>, labels: Record<string, string> | undefined): boolean =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

export const allContainers = (pod: PodSpec): Container[] => [...(pod.initContainers ?? []), ...pod.containers];
