// `kfn dlq list|redrive TRIGGER`: a trigger's dead letters, and sending them back to it
// once the function is fixed.
import { parseArgs } from 'node:util';
import type { KfnTrigger } from '../../../pkg/apis/trigger/types.js';
import { DeadLetterError, listDeadLetters, redriveDeadLetters, type DeadLetterEntry, type DeadLetterQuery } from '../../../pkg/events/dlq/dlq.js';
import { errorOf } from '../../../pkg/shared/http-error.js';
import { adminRequest, adminToken, adminUrl, CliError } from '../client.js';
import { table } from '../format.js';
import { natsUrl, withNats } from '../nats.js';

export const dlqUsage = `kfn dlq list TRIGGER [-n NS] [-o json] [--limit N]   a trigger's dead letters, oldest first
kfn dlq redrive TRIGGER [-n NS]   send them back to that trigger alone, then remove them
    both take --subject SUBJ (the dead-letter subject, instead of asking kfn dev) and --nats URL`;

const DEFAULT_LIMIT = 100;
/** Longest ERROR cell in the table; -o json has the whole text. */
const ERROR_CELL = 60;

export async function dlqCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === 'list') return listCommand(rest);
  if (sub === 'redrive') return redriveCommand(rest);
  throw new CliError(sub ? `kfn dlq: unknown subcommand "${sub}"; want list or redrive` : `kfn dlq: want list or redrive\nusage:\n${dlqUsage}`);
}

const common = {
  namespace: { type: 'string', short: 'n' },
  subject: { type: 'string' },
  nats: { type: 'string' },
  admin: { type: 'string' },
} as const;

async function listCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...common, output: { type: 'string', short: 'o' }, limit: { type: 'string' } },
  });
  if (values.output !== undefined && values.output !== 'json') throw new CliError(`-o ${values.output}: want json (or no -o for a table)`);
  const limit = values.limit === undefined ? DEFAULT_LIMIT : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new CliError(`--limit ${values.limit}: want a whole number above 0`);
  const query = await queryFor('list', positionals, values);
  const entries = await withNats(await natsUrl(values.nats), (_nc, jsm) => asCliError(() => listDeadLetters(jsm, { ...query, limit })));
  if (values.output === 'json') {
    console.log(JSON.stringify(entries, null, 2));
    return;
  }
  if (entries.length === 0) {
    console.log(`no dead letters of trigger ${query.trigger} on ${query.deadLetterSubject}`);
    return;
  }
  console.log(deadLetterTable(entries));
  if (entries.length === limit) console.log(`(the first ${limit}; pass --limit to see more)`);
}

async function redriveCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: common });
  const query = await queryFor('redrive', positionals, values);
  const result = await withNats(await natsUrl(values.nats), (nc, jsm) => asCliError(() => redriveDeadLetters(nc.jetstream(), jsm, query)));
  console.log(`redriven ${result.redriven} dead letter${result.redriven === 1 ? '' : 's'} of trigger ${query.trigger}`);
  for (const f of result.failed) console.error(`failed: seq ${f.seq}${f.id !== undefined ? ` (event ${f.id})` : ''}: ${f.error}`);
  if (result.failed.length > 0) {
    throw new CliError(`${result.failed.length} dead letter${result.failed.length === 1 ? '' : 's'} could not be redriven and ${result.failed.length === 1 ? 'stays' : 'stay'} in ${query.deadLetterSubject}`);
  }
}

/** The trigger named on the command line (NAME with -n, or NS/NAME) and its dead-letter subject. */
async function queryFor(
  verb: string,
  positionals: string[],
  values: { namespace?: string | undefined; subject?: string | undefined; admin?: string | undefined },
): Promise<DeadLetterQuery> {
  const arg = positionals[0];
  if (!arg) throw new CliError(`kfn dlq ${verb}: name the trigger\nusage:\n${dlqUsage}`);
  if (positionals.length > 1) throw new CliError(`kfn dlq ${verb}: unexpected argument "${positionals[1]}"`);
  const slash = arg.indexOf('/');
  const namespace = slash > 0 ? arg.slice(0, slash) : (values.namespace ?? 'default');
  const name = slash > 0 ? arg.slice(slash + 1) : arg;
  const trigger = `${namespace}/${name}`;
  if (values.subject) return { trigger, deadLetterSubject: values.subject };
  return { trigger, deadLetterSubject: await deadLetterSubjectOf(await adminUrl(values.admin), namespace, name) };
}

/** Asks kfn dev for the trigger; its spec names the dead-letter subject. */
async function deadLetterSubjectOf(admin: string, namespace: string, name: string): Promise<string> {
  const route = `/api/triggers/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
  let res: { status: number; body: KfnTrigger };
  try {
    res = await adminRequest<KfnTrigger>(admin, 'GET', route, undefined, await adminToken(admin));
  } catch (err) {
    if (err instanceof CliError) throw new CliError(`${err.message} (or pass --subject with the trigger's dead-letter subject)`);
    throw err;
  }
  if (res.status === 404) throw new CliError(`trigger ${namespace}/${name} not found`);
  if (res.status !== 200) throw new CliError(`looking up trigger ${namespace}/${name}: ${errorOf(res.body)?.message ?? `HTTP ${res.status}`}`);
  const subject = res.body.spec?.delivery?.deadLetterSubject;
  if (!subject) throw new CliError(`trigger ${namespace}/${name} has no deadLetterSubject: its failed events were dropped, not kept`);
  return subject;
}

async function asCliError<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof DeadLetterError) throw new CliError(err.message);
    throw err;
  }
}

function deadLetterTable(entries: DeadLetterEntry[]): string {
  const rows = [['SEQ', 'TIME', 'ID', 'TYPE', 'REASON', 'STATUS', 'ATTEMPTS', 'ERROR']];
  for (const e of entries) {
    const error = e.lastError ?? '';
    rows.push([
      String(e.seq),
      e.time,
      e.id ?? '',
      e.type ?? '',
      e.reason,
      e.status !== undefined ? String(e.status) : '',
      String(e.attempts),
      error.length > ERROR_CELL ? `${error.slice(0, ERROR_CELL - 1)}…` : error,
    ]);
  }
  return table(rows);
}
