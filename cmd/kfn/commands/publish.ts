// `kfn publish SUBJECT DATA`: one CloudEvent (binary mode) into JetStream, confirmed.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isLiteralSubject, isReservedSubject } from '../../../pkg/apis/trigger/subject.js';
import { EventFormatError, makeEvent, SPEC_VERSION, type Event } from '../../../pkg/events/cloudevents/event.js';
import { msgIdFor, toNatsMessage } from '../../../pkg/events/cloudevents/nats.js';
import { CliError } from '../client.js';
import { natsUrl, withNats } from '../nats.js';

export const publishUsage = 'kfn publish SUBJECT [DATA|@FILE|-] [--type T] [--source S] [--id ID] [--content-type CT] [--header K=V]...';

const DEFAULT_TYPE = 'dev.kfn.cli.publish';
const DEFAULT_SOURCE = 'kfn/cli';
/** Attributes with their own flags; as --header they would contradict them. */
const FLAG_ATTRIBUTES = new Set(['specversion', 'id', 'source', 'type', 'datacontenttype']);

export async function publishCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      type: { type: 'string' },
      source: { type: 'string' },
      id: { type: 'string' },
      'content-type': { type: 'string' },
      header: { type: 'string', short: 'H', multiple: true },
      nats: { type: 'string' },
    },
  });
  const [subject, dataArg, extra] = positionals;
  if (!subject) throw new CliError(`kfn publish: name the subject\nusage: ${publishUsage}`);
  if (extra !== undefined) throw new CliError(`kfn publish: unexpected argument "${extra}"; quote DATA that holds spaces`);
  if (!isLiteralSubject(subject)) {
    throw new CliError(`invalid subject "${subject}": tokens separated by ".", none empty, no spaces and no wildcards (* or >)`);
  }
  // A publish there is a NATS API call ($JS.API.STREAM.DELETE.… deletes a stream), not an event.
  if (isReservedSubject(subject)) {
    throw new CliError(`invalid subject "${subject}": it is NATS's own (its first token starts with "$" or is "_INBOX": NATS's API, system and reply subjects), not an event subject`);
  }
  const { extensions, headers } = parseHeaders(values.header ?? []);
  const body = dataArg === undefined ? undefined : await readData(dataArg);
  const contentType = values['content-type'] ?? (body === undefined ? undefined : guessContentType(body));

  let event: Event;
  try {
    event = makeEvent(
      {
        specversion: SPEC_VERSION,
        id: values.id ?? randomUUID(),
        source: values.source ?? DEFAULT_SOURCE,
        type: values.type ?? DEFAULT_TYPE,
        ...(contentType !== undefined ? { datacontenttype: contentType } : {}),
        ...extensions,
      },
      body,
    );
  } catch (err) {
    if (err instanceof EventFormatError) throw new CliError(`not a valid CloudEvent: ${err.message}`);
    throw err;
  }

  const url = await natsUrl(values.nats);
  const ack = await withNats(url, async (nc, jsm) => {
    let stream: string;
    try {
      stream = await jsm.streams.find(subject);
    } catch (err) {
      if (err instanceof Error && /no stream matches subject/i.test(err.message)) {
        throw new CliError(`no trigger listens on ${subject}: no JetStream stream holds it`);
      }
      throw err;
    }
    const msg = toNatsMessage(event);
    for (const [k, v] of headers) msg.headers.append(k, v);
    // Stored only if that stream acknowledges it: nothing else counts as a PubAck. Checked
    // on the ack, not sent as Nats-Expected-Stream, which JetStream would store with the
    // event and dead letters and redrives would carry to other streams.
    const ack = await nc.jetstream().publish(subject, msg.data, { headers: msg.headers, msgID: msgIdFor(event) });
    if (ack.stream !== stream) throw new CliError(`${subject}: acknowledged by stream "${ack.stream}", not "${stream}" that holds it`);
    return ack;
  });
  const where = `stream ${ack.stream}, seq ${ack.seq}`;
  const { id } = event.attributes;
  console.log(ack.duplicate ? `event ${id} on ${subject} was already stored (${where}): duplicate, not stored again` : `published event ${id} to ${subject} (${where})`);
}

/** `ce-<name>=V` becomes the extension attribute `<name>`; any other `K=V` a plain NATS header. */
function parseHeaders(flags: string[]): { extensions: Record<string, string>; headers: Array<[string, string]> } {
  const extensions: Record<string, string> = {};
  const headers: Array<[string, string]> = [];
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const name = eq > 0 ? flag.slice(0, eq).trim() : '';
    if (!name) throw new CliError(`--header "${flag}": want NAME=VALUE`);
    if (/[\s:]/.test(name) || /[^\x21-\x7e]/.test(name)) throw new CliError(`--header "${flag}": "${name}" is not a valid header name`);
    const value = flag.slice(eq + 1);
    if (/[\r\n]/.test(value)) throw new CliError(`--header "${flag}": a header value cannot hold a line break`);
    const lower = name.toLowerCase();
    if (lower.startsWith('ce-')) {
      const attr = lower.slice(3);
      if (FLAG_ATTRIBUTES.has(attr)) throw new CliError(`--header ${name}: set ${attr} with its own flag (--${attr === 'datacontenttype' ? 'content-type' : attr})`);
      extensions[attr] = value;
    } else if (lower === 'nats-msg-id') {
      throw new CliError('--header Nats-Msg-Id: the event id is the message id; set it with --id');
    } else {
      headers.push([name, value]);
    }
  }
  return { extensions, headers };
}

/** `-` is stdin, `@path` a file's bytes, anything else the data itself. */
async function readData(arg: string): Promise<Buffer> {
  if (arg === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
  if (arg.startsWith('@')) {
    try {
      return await readFile(arg.slice(1));
    } catch (err) {
      throw new CliError(`cannot read ${arg.slice(1)}: ${(err as Error).message}`);
    }
  }
  return Buffer.from(arg, 'utf8');
}

/** JSON when it parses as JSON, text when it is UTF-8, else bytes. */
function guessContentType(body: Buffer): string {
  const text = body.toString('utf8');
  try {
    JSON.parse(text);
    return 'application/json';
  } catch {
    // not JSON
  }
  return Buffer.from(text, 'utf8').equals(body) ? 'text/plain' : 'application/octet-stream';
}
