// `kfn invoke NAME`: one HTTP call to a function through the activator (kfn dev's, or a
// cluster's through the API server's service proxy; see cluster/proxy.ts for why).
import { parseArgs } from 'node:util';
import { backendOptions, connect } from '../choose.js';
import { CliError } from '../client.js';
import { errorOf } from '../../../pkg/shared/http-error.js';

export async function invokeCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      namespace: { type: 'string', short: 'n' },
      path: { type: 'string' },
      data: { type: 'string', short: 'd' },
      request: { type: 'string', short: 'X' },
      header: { type: 'string', short: 'H', multiple: true },
      include: { type: 'boolean', short: 'i' },
      ...backendOptions,
    },
  });
  const name = positionals[0];
  if (!name) throw new CliError('kfn invoke: name the function to call');
  const headers: Array<[string, string]> = [];
  for (const h of values.header ?? []) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new CliError(`-H "${h}": want "Name: value"`);
    headers.push([h.slice(0, colon).trim(), h.slice(colon + 1).trim()]);
  }
  const method = (values.request ?? (values.data === undefined ? 'GET' : 'POST')).toUpperCase();
  if (!/^[A-Z]+$/.test(method)) throw new CliError(`-X "${values.request ?? ''}": not an HTTP method`);
  const backend = await connect(values);
  const res = await backend.invoke({
    namespace: values.namespace ?? backend.defaultNamespace,
    name,
    path: (values.path ?? '/').replace(/^\/?/, '/'),
    method,
    headers,
    body: values.data,
  });
  if (values.include) {
    console.log(`HTTP ${res.status} ${res.statusText}`);
    for (const [k, v] of res.headers) console.log(`${k}: ${v}`);
    console.log('');
  }
  // kfn's own refusal (the activator's envelope, not the function's answer) is one line on
  // stderr; the function's body, whatever its status, goes to stdout as it came.
  const refusal = res.status >= 400 && !values.include ? errorOf(jsonOrUndefined(res.body)) : undefined;
  if (refusal) throw new CliError(`HTTP ${res.status} from kfn: ${refusal.message} (${refusal.code})`);
  process.stdout.write(res.body);
  if (res.status < 200 || res.status > 299) throw new CliError(`HTTP ${res.status}`);
}

function jsonOrUndefined(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
