// `kfn publish` against a real nats-server: the event lands in the stream as a
// binary-mode CloudEvent, de-duplicated by its id, and mistakes get a clear error.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type JetStreamManager, type NatsConnection, type StoredMsg } from 'nats';
import { ensureStream } from '../../pkg/events/jetstream/stream.js';
import { startNatsServer, type NatsServer } from '../util/nats.js';
import { kfn, tempHome } from './run.js';

const STREAM = 'KFN_CLI';

describe('kfn publish', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let home: string;
  const publish = (...args: string[]) => kfn(['publish', ...args, '--nats', nats.url], { home });
  const stored = (seq: number): Promise<StoredMsg> => jsm.streams.getMessage(STREAM, { seq });

  before(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    jsm = await nc.jetstreamManager();
    await ensureStream(jsm, { name: STREAM, subjects: ['orders.>'], duplicateWindowMs: 60_000 });
    home = await tempHome();
  });
  after(async () => {
    await nc.close();
    await nats.stop();
  });

  it('stores JSON data as a binary-mode CloudEvent with the attributes and headers given', async () => {
    const res = await publish('orders.created', '{"order": 1}', '--type', 'shop.order.created', '--source', '/shop', '--header', 'ce-priority=high', '--header', 'x-tenant=acme');
    assert.equal(res.code, 0, res.stderr);
    const m = /published event (\S+) to orders\.created \(stream KFN_CLI, seq (\d+)\)/.exec(res.stdout);
    assert.ok(m, res.stdout);
    const msg = await stored(Number(m[2]));
    assert.equal(msg.subject, 'orders.created');
    const h = msg.header;
    assert.equal(h.get('ce-specversion'), '1.0');
    assert.equal(h.get('ce-id'), m[1]);
    assert.match(m[1]!, /^[0-9a-f-]{36}$/, 'a random UUID by default');
    assert.equal(h.get('ce-type'), 'shop.order.created');
    assert.equal(h.get('ce-source'), '/shop');
    assert.equal(h.get('ce-datacontenttype'), 'application/json');
    assert.equal(h.get('ce-priority'), 'high');
    assert.equal(h.get('x-tenant'), 'acme');
    // De-duplicated on the event's identity, source + id (spec.md, "id").
    assert.equal(h.get('Nats-Msg-Id'), createHash('sha256').update('/shop').update('\0').update(m[1]!).digest('base64url'));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(msg.data)), { order: 1 });
  });

  it('text is text/plain, with the defaults for type and source', async () => {
    const res = await publish('orders.note', 'hello there');
    assert.equal(res.code, 0, res.stderr);
    const seq = Number(/seq (\d+)/.exec(res.stdout)?.[1]);
    const msg = await stored(seq);
    assert.equal(msg.header.get('ce-datacontenttype'), 'text/plain');
    assert.equal(msg.header.get('ce-type'), 'dev.kfn.cli.publish');
    assert.equal(msg.header.get('ce-source'), 'kfn/cli');
    assert.equal(new TextDecoder().decode(msg.data), 'hello there');
  });

  it('reads DATA from a file with @FILE and from standard input with -', async () => {
    const file = path.join(home, 'order.json');
    await writeFile(file, '{"from":"file"}');
    const fromFile = await publish('orders.file', `@${file}`);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    const a = await stored(Number(/seq (\d+)/.exec(fromFile.stdout)?.[1]));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(a.data)), { from: 'file' });

    const fromStdin = await kfn(['publish', 'orders.stdin', '-', '--nats', nats.url], { home, stdin: 'piped text' });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    const b = await stored(Number(/seq (\d+)/.exec(fromStdin.stdout)?.[1]));
    assert.equal(new TextDecoder().decode(b.data), 'piped text');
    assert.equal(b.header.get('ce-datacontenttype'), 'text/plain');
  });

  it('the same --id twice is stored once and reported as a duplicate', async () => {
    const first = await publish('orders.dup', '{}', '--id', 'order-77');
    assert.equal(first.code, 0, first.stderr);
    const second = await publish('orders.dup', '{}', '--id', 'order-77');
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /event order-77 on orders\.dup was already stored \(stream KFN_CLI, seq \d+\): duplicate/);
    const info = await jsm.streams.info(STREAM, { subjects_filter: 'orders.dup' });
    assert.equal(info.state.subjects?.['orders.dup'], 1);
  });

  it('finds NATS through NATS_URL when --nats is not given', async () => {
    const res = await kfn(['publish', 'orders.env', 'x'], { home, env: { NATS_URL: nats.url } });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /published event \S+ to orders\.env/);
  });

  const mistakes: Array<{ name: string; args: string[]; want: RegExp }> = [
    { name: 'a subject no stream holds', args: ['payments.created', '{}'], want: /no trigger listens on payments\.created: no JetStream stream holds it/ },
    { name: 'a wildcard subject', args: ['orders.*', '{}'], want: /invalid subject "orders\.\*"/ },
    { name: 'an empty token', args: ['orders..x', '{}'], want: /invalid subject "orders\.\.x"/ },
    { name: "JetStream's API (it would delete the stream)", args: [`$JS.API.STREAM.DELETE.${STREAM}`, ''], want: /invalid subject "\$JS\.API\.STREAM\.DELETE\.KFN_CLI": it is NATS's own/ },
    { name: 'a reply inbox', args: ['_INBOX.abc', 'x'], want: /invalid subject "_INBOX\.abc": it is NATS's own/ },
    { name: 'a content type that is no media type', args: ['orders.bad', '{}', '--content-type', 'json'], want: /attribute "datacontenttype" must be an RFC 2046 media type/ },
    { name: 'a header without =', args: ['orders.h', 'x', '--header', 'novalue'], want: /--header "novalue": want NAME=VALUE/ },
    { name: 'an attribute as a header', args: ['orders.h', 'x', '--header', 'ce-type=x'], want: /set type with its own flag \(--type\)/ },
    { name: 'a bad extension name', args: ['orders.h', 'x', '--header', 'ce-my_ext=1'], want: /invalid attribute name "my_ext"/ },
    { name: 'a missing file', args: ['orders.f', '@/no/such/file'], want: /cannot read \/no\/such\/file/ },
  ];
  for (const row of mistakes) {
    it(`refuses ${row.name} with a clear error`, async () => {
      const before = (await jsm.streams.info(STREAM)).state.messages;
      const res = await publish(...row.args);
      assert.equal(res.code, 1, res.stdout);
      assert.match(res.stderr, row.want);
      assert.equal((await jsm.streams.info(STREAM)).state.messages, before, 'nothing was stored');
    });
  }

  it('says which URL it could not reach', async () => {
    const res = await kfn(['publish', 'orders.x', '{}', '--nats', 'nats://127.0.0.1:1'], { home });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /cannot reach NATS at nats:\/\/127\.0\.0\.1:1/);
  });
});
