// `kfn apply`, `kfn get`, `kfn delete`: resources in a running `kfn dev`.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import type { KfnFunction } from '../../../pkg/apis/function/types.js';
import type { KfnTrigger } from '../../../pkg/apis/trigger/types.js';
import { adminRequest, adminUrl, CliError } from '../client.js';
import { functionDetail, functionTable, triggerDetail, triggerTable } from '../format.js';

interface Kind {
  /** Path segment of the admin API and word in messages. */
  plural: 'functions' | 'triggers';
  singular: string;
}

const KINDS: Record<string, Kind> = {
  functions: { plural: 'functions', singular: 'function' },
  function: { plural: 'functions', singular: 'function' },
  fn: { plural: 'functions', singular: 'function' },
  triggers: { plural: 'triggers', singular: 'trigger' },
  trigger: { plural: 'triggers', singular: 'trigger' },
  tr: { plural: 'triggers', singular: 'trigger' },
};

/** `[KIND] [NAME...]` as kubectl reads it; the kind defaults to functions. */
function kindAndNames(positionals: string[]): { kind: Kind; names: string[] } {
  const first = positionals[0];
  const kind = first === undefined ? undefined : KINDS[first];
  return kind ? { kind, names: positionals.slice(1) } : { kind: KINDS.functions as Kind, names: positionals };
}

interface ApplyResponse {
  results?: Array<{ kind: string; key: { namespace: string; name: string }; action: string }>;
  error?: string;
  problems?: string[];
  message?: string;
}

export async function applyCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { file: { type: 'string', short: 'f', multiple: true }, admin: { type: 'string' } } });
  const files = values.file ?? [];
  if (files.length === 0) throw new CliError('kfn apply: -f FILE is required (a file, a folder, or - for standard input)');
  const base = await adminUrl(values.admin);
  let failed = false;
  for (const f of files) {
    for (const { source, dir, manifest } of await readSources(f)) {
      const res = await adminRequest<ApplyResponse>(base, 'POST', '/api/apply', { manifest, dir, source });
      if (res.status === 200 && res.body.results) {
        for (const r of res.body.results) console.log(`${r.kind.toLowerCase()}.kfn.dev/${r.key.name} ${r.action}`);
      } else {
        failed = true;
        for (const p of res.body.problems ?? [res.body.message ?? `HTTP ${res.status}`]) console.error(`error: ${p}`);
      }
    }
  }
  if (failed) throw new CliError('some manifests were rejected; nothing in them was applied');
}

export async function getCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { namespace: { type: 'string', short: 'n' }, output: { type: 'string', short: 'o' }, admin: { type: 'string' } },
  });
  const base = await adminUrl(values.admin);
  const { kind, names } = kindAndNames(positionals);
  const name = names[0];
  const ns = values.namespace ?? 'default';
  let items: Array<KfnFunction | KfnTrigger>;
  if (name) {
    const res = await adminRequest<KfnFunction & { message?: string }>(base, 'GET', `/api/${kind.plural}/${ns}/${name}`);
    if (res.status !== 200) throw new CliError(res.body.message ?? `HTTP ${res.status}`);
    items = [res.body];
  } else {
    const res = await adminRequest<{ items: Array<KfnFunction | KfnTrigger> }>(base, 'GET', `/api/${kind.plural}`);
    if (res.status !== 200) throw new CliError(`HTTP ${res.status} from ${base}/api/${kind.plural}`);
    items = res.body.items.filter((f) => values.namespace === undefined || f.metadata.namespace === values.namespace);
  }
  const out = values.output;
  if (out === 'json') console.log(JSON.stringify(name ? items[0] : { items }, null, 2));
  else if (out === 'yaml') console.log(stringify(name ? items[0] : { items }));
  else if (out !== undefined && out !== 'wide') throw new CliError(`-o ${out}: want json, yaml or wide`);
  else if (items.length === 0) console.log(`No ${kind.plural}.`);
  else if (kind.plural === 'triggers') {
    console.log(name ? triggerDetail(items[0] as KfnTrigger) : triggerTable(items as KfnTrigger[]));
    // The table has room for the reason only; while NATS is down, say once what is wrong.
    const down = name ? undefined : natsDownMessage(items as KfnTrigger[]);
    if (down) console.error(`\nNATS is unavailable: ${down}`);
  }
  else console.log(name ? functionDetail(items[0] as KfnFunction) : functionTable(items as KfnFunction[]));
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
    options: { namespace: { type: 'string', short: 'n' }, admin: { type: 'string' } },
  });
  const { kind, names } = kindAndNames(positionals);
  if (names.length === 0) throw new CliError(`kfn delete: name the ${kind.singular}(s) to delete`);
  const base = await adminUrl(values.admin);
  const ns = values.namespace ?? 'default';
  for (const name of names) {
    const res = await adminRequest<{ message?: string }>(base, 'DELETE', `/api/${kind.plural}/${ns}/${name}`);
    if (res.status !== 200) throw new CliError(res.body.message ?? `HTTP ${res.status}`);
    console.log(`${kind.singular}.kfn.dev/${name} deleted`);
  }
}

async function readSources(f: string): Promise<Array<{ source: string; dir: string; manifest: string }>> {
  if (f === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return [{ source: '<stdin>', dir: process.cwd(), manifest: Buffer.concat(chunks).toString('utf8') }];
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
    return Promise.all(names.map(async (n) => ({ source: path.join(abs, n), dir: abs, manifest: await readFile(path.join(abs, n), 'utf8') })));
  }
  return [{ source: abs, dir: path.dirname(abs), manifest: await readFile(abs, 'utf8') }];
}
