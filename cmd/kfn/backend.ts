// What the resource commands (get, apply, delete, invoke, logs) need from wherever the
// functions live. Two implementations: a running `kfn dev` (dev-backend.ts) and a cluster
// reached through the kubeconfig (cluster/backend.ts); choose.ts picks one.
import type { KfnFunction } from '../../pkg/apis/function/types.js';
import type { KfnTrigger } from '../../pkg/apis/trigger/types.js';

export type Plural = 'functions' | 'triggers';
export type Resource = KfnFunction | KfnTrigger;

/** One manifest as read from a file, a folder or standard input. */
export interface ManifestSource {
  /** Named in errors: the file, or `<stdin>`. */
  source: string;
  /** The folder it came from; kfn dev resolves a Function's local code against it. */
  dir: string;
  text: string;
}

export interface AppliedResource {
  kind: 'Function' | 'Trigger';
  namespace: string;
  name: string;
  /** created, configured, unchanged, serverside-applied … as the backend knows it. */
  action: string;
}

export interface ApplyOutcome {
  applied: AppliedResource[];
  /** One line each; empty when everything was applied. */
  problems: string[];
}

export interface ApplyOptions {
  /** -n: documents without a namespace go here; a document naming another is refused. */
  namespace: string | undefined;
  /** Take over fields another field manager owns (cluster only). */
  forceConflicts: boolean;
}

export interface InvokeRequest {
  namespace: string;
  name: string;
  /** Origin-form path the function sees, starting with '/', query included. */
  path: string;
  method: string;
  headers: Array<[string, string]>;
  body: string | undefined;
}

export interface InvokeResponse {
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
  body: Buffer;
}

export interface LogsRequest {
  namespace: string;
  name: string;
  follow: boolean;
  sinceSeconds: number | undefined;
  tailLines: number | undefined;
  signal: AbortSignal;
}

export interface LogsOutput {
  line(text: string): void;
  /** A problem with one replica that does not stop the others. */
  warn(text: string): void;
}

export interface Backend {
  /** Where the commands look, for messages: "kfn dev at http://…", "context prod (https://…)". */
  readonly where: string;
  /** The namespace used when -n is not given. */
  readonly defaultNamespace: string;
  /** Whether `get` without -n lists every namespace (kfn dev) or only the default one (a cluster, as kubectl). */
  readonly listsAllNamespacesByDefault: boolean;
  /** `namespace` undefined: every namespace. */
  list(plural: Plural, namespace: string | undefined): Promise<Resource[]>;
  /** Throws CliError naming the resource when it does not exist. */
  get(plural: Plural, namespace: string, name: string): Promise<Resource>;
  apply(sources: readonly ManifestSource[], opts: ApplyOptions): Promise<ApplyOutcome>;
  delete(plural: Plural, namespace: string, name: string): Promise<void>;
  invoke(req: InvokeRequest): Promise<InvokeResponse>;
  /** Writes each line of the function's replicas' output, prefixed with the replica's name. */
  logs(req: LogsRequest, out: LogsOutput): Promise<void>;
}

export const SINGULAR: Record<Plural, string> = { functions: 'function', triggers: 'trigger' };
