// `kfn logs NAME`: what a function's replicas print, each line prefixed with the replica.
import { parseArgs } from 'node:util';
import { parseDuration } from '../../../pkg/shared/duration.js';
import { backendOptions, connect } from '../choose.js';
import { CliError } from '../client.js';

export const logsUsage = 'kfn logs NAME [-n NS] [-f] [--since 5m] [--tail N]   output of a function\'s pods (cluster)';

export async function logsCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      namespace: { type: 'string', short: 'n' },
      follow: { type: 'boolean', short: 'f' },
      since: { type: 'string' },
      tail: { type: 'string' },
      ...backendOptions,
    },
  });
  const name = positionals[0];
  if (!name) throw new CliError('kfn logs: name the function');
  let sinceSeconds: number | undefined;
  if (values.since !== undefined) {
    const ms = parseDuration(values.since);
    if (ms === undefined || ms <= 0) throw new CliError(`--since "${values.since}": want a duration such as 30s, 5m or 1h`);
    sinceSeconds = Math.max(1, Math.ceil(ms / 1000));
  }
  let tailLines: number | undefined;
  if (values.tail !== undefined) {
    tailLines = Number(values.tail);
    if (!Number.isInteger(tailLines) || tailLines < 0) throw new CliError(`--tail "${values.tail}": want a whole number of lines`);
  }
  const backend = await connect(values);
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await backend.logs(
      { namespace: values.namespace ?? backend.defaultNamespace, name, follow: values.follow ?? false, sinceSeconds, tailLines, signal: abort.signal },
      { line: (l) => void process.stdout.write(`${l}\n`), warn: (l) => console.error(l) },
    );
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
