// `kfn apply`, `kfn get`, `kfn delete`: Functions and Triggers in kfn dev or on a cluster.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import type { KfnFunction } from '../../../pkg/apis/function/types.js';
import type { KfnTrigger } from '../../../pkg/apis/trigger/types.js';
import { SINGULAR, type Backend, type ManifestSource, type Plural, type Resource } from '../backend.js';
import { backendOptions, connect } from '../choose.js';
import { CliError } from '../client.js';
import { functionDetail, functionTable, triggerDetail, triggerTable } from '../format.js';

/**
 * The names `kfn get` takes for a kind: exactly the CRD's plural, singular and short names
 * (config/2x0-crd-*.yaml spec.names), so `kfn get trig` and `kubectl get trig` agree.
 * test/cli/kinds.test.ts reads the CRDs to keep it so.
 */
export const KINDS: Readonly<Record<string, Plural>> = {
  functions: 'functions',
  function: 'functions',
  fn: 'functions',
  triggers: 'triggers',
  trigger: 'triggers',
  trig: 'triggers',
};

/** `[KIND] [NAME...]` as kubectl reads it; the kind defaults to functions. */
function kindAndNames(positionals: string[]): { plural: Plural; names: string[] } {
  const first = positionals[0];
  const plural = first === undefined ? undefined : KINDS[first];
  return plural ? { plural, names: positionals.slice(1) } : { plural: 'functions', names: positionals };
}

export async function applyCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      file: { type: 'string', short: 'f', multiple: true },
      namespace: { type: 'string', short: 'n' },
      'force-conflicts': { type: 'boolean' },
      ...backendOptions,
    },
  });
  const files = values.file ?? [];
  if (files.length === 0) throw new CliError('kfn apply: -f FILE is required (a file, a folder, or - for standard input)');
  const sources: ManifestSource[] = [];
  for (const f of files) sources.push(...(await readSources(f)));
  const backend = await connect(values);
  const outcome = await backend.apply(sources, { namespace: values.namespace, forceConflicts: values['force-conflicts'] ?? false });
  for (const r of outcome.applied) console.log(`${r.kind.toLowerCase()}.kfn.dev/${r.name} ${r.action}`);
  if (outcome.problems.length > 0) {
    for (const p of outcome.problems) console.error(`error: ${p}`);
    throw new CliError(outcome.applied.length === 0 ? 'nothing was applied' : 'some manifests were not applied');
  }
}

export async function getCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      output: { type: 'string', short: 'o' },
      ...backendOptions,
    },
  });
  const out = values.output;
  if (out !== undefined && !['json', 'yaml', 'wide'].includes(out)) throw new CliError(`-o ${out}: want json, yaml or wide`);
  const backend = await connect(values);
  const { plural, names } = kindAndNames(positionals);
  const name = names[0];
  let items: Resource[];
  let scope = '';
  if (name) {
    items = [await backend.get(plural, values.namespace ?? backend.defaultNamespace, name)];
  } else {
    const ns = listNamespace(backend, values.namespace, values['all-namespaces'] ?? false);
    scope = ns === undefined ? '' : ` in namespace ${ns}`;
    items = await backend.list(plural, ns);
  }
  if (out === 'json') console.log(JSON.stringify(name ? items[0] : { items }, null, 2));
  else if (out === 'yaml') console.log(stringify(name ? items[0] : { items }));
  else if (items.length === 0) console.log(`No ${plural}${scope} (${backend.where}).`);
  else if (plural === 'triggers') {
    console.log(name ? triggerDetail(items[0] as KfnTrigger) : triggerTable(items as KfnTrigger[]));
    // The table has room for the reason only; while NATS is down, say once what is wrong.
    const down = name ? undefined : natsDownMessage(items as KfnTrigger[]);
    if (down) console.error(`\nNATS is unavailable: ${down}`);
  } else console.log(name ? functionDetail(items[0] as KfnFunction) : functionTable(items as KfnFunction[]));
}

function listNamespace(backend: Backend, namespace: string | undefined, all: boolean): string | undefined {
  if (all && namespace !== undefined) throw new CliError('-A and -n: choose one');
  if (all) return undefined;
  return namespace ?? (backend.listsAllNamespacesByDefault ? undefined : backend.defaultNamespace);
}

function natsDownMessage(triggers: readonly KfnTrigger[]): string | undefined {
  for (const t of triggers) {
    const c = t.status?.conditions?.find((x) => x.type === 'ConsumerReady');
    if (c?.status === 'False' && c.reason === 'NatsUnavailable') return c.message;
  }
  return undefined;
}

export async function deleteCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { namespace: { type: 'string', short: 'n' }, ...backendOptions },
  });
  const { plural, names } = kindAndNames(positionals);
  if (names.length === 0) throw new CliError(`kfn delete: name the ${SINGULAR[plural]}(s) to delete`);
  const backend = await connect(values);
  const ns = values.namespace ?? backend.defaultNamespace;
  for (const name of names) {
    await backend.delete(plural, ns, name);
    console.log(`${SINGULAR[plural]}.kfn.dev/${name} deleted`);
  }
}

async function readSources(f: string): Promise<ManifestSource[]> {
  if (f === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return [{ source: '<stdin>', dir: process.cwd(), text: Buffer.concat(chunks).toString('utf8') }];
  }
  const abs = path.resolve(f);
  let st;
  try {
    st = await stat(abs);
  } catch {
    throw new CliError(`kfn apply: ${f}: no such file or folder`);
  }
  if (st.isDirectory()) {
    const names = (await readdir(abs)).filter((n) => /\.ya?ml$/.test(n)).sort();
    return Promise.all(names.map(async (n) => ({ source: path.join(abs, n), dir: abs, text: await readFile(path.join(abs, n), 'utf8') })));
  }
  return [{ source: abs, dir: path.dirname(abs), text: await readFile(abs, 'utf8') }];
}
