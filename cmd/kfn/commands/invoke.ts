// `kfn invoke NAME`: one HTTP call to a function through the activator.
import { parseArgs } from 'node:util';
import { adminRequest, adminUrl, CliError } from '../client.js';

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
      admin: { type: 'string' },
    },
  });
  const name = positionals[0];
  if (!name) throw new CliError('kfn invoke: name the function to call');
  const ns = values.namespace ?? 'default';
  const info = await adminRequest<{ activator: string }>(await adminUrl(values.admin), 'GET', '/api/info');
  const headers: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new CliError(`-H "${h}": want "Name: value"`);
    headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  const sub = (values.path ?? '/').replace(/^\/?/, '/');
  const method = values.request ?? (values.data === undefined ? 'GET' : 'POST');
  const res = await fetch(`${info.body.activator}/${ns}/${name}${sub}`, { method, headers, body: values.data ?? null });
  if (values.include) {
    console.log(`HTTP ${res.status} ${res.statusText}`);
    res.headers.forEach((v, k) => console.log(`${k}: ${v}`));
    console.log('');
  }
  process.stdout.write(await res.text());
  if (!res.ok) throw new CliError(`HTTP ${res.status}`);
}
