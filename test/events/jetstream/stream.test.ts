// A stream holds exactly the subjects its Triggers need: ensureStream removes the ones
// no longer wanted, and repairs a stream an older kfn damaged (holding `>`, so it stores
// JetStream's own API requests and stream info fails) without losing its events.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { ensureStream, KFN_STREAM_DESCRIPTION, streamInfo, streamSubjects } from '../../../pkg/events/jetstream/stream.js';
import { startNatsServer, type NatsServer } from '../../util/nats.js';

describe('streamSubjects', () => {
  const rows: Array<{ name: string; subjects: string[]; want: string[] }> = [
    { name: 'keeps what is wanted', subjects: ['a', 'b.*'], want: ['a', 'b.*'] },
    { name: 'keeps only the widest of overlapping ones', subjects: ['o.created', 'o.>', 'o.dlq'], want: ['o.>'] },
    { name: 'drops duplicates', subjects: ['a', 'a'], want: ['a'] },
    { name: 'falls back to the stream name (as JetStream does) when nothing is wanted', subjects: [], want: ['S'] },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(streamSubjects({ name: 'S', subjects: row.subjects }), row.want));
});

describe('ensureStream on a real nats-server', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  before(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    jsm = await nc.jetstreamManager();
  });
  after(async () => {
    await nc.close();
    await nats.stop();
  });

  it('removes subjects no Trigger needs any more, keeping the events stored on them', async () => {
    await ensureStream(jsm, { name: 'EXACT', subjects: ['a.>', 'b'], duplicateWindowMs: 60_000 });
    const js = nc.jetstream();
    await js.publish('b', new TextEncoder().encode('kept'));
    const after = await ensureStream(jsm, { name: 'EXACT', subjects: ['a.>'], duplicateWindowMs: 60_000 });
    assert.deepEqual(after?.config.subjects, ['a.>']);
    // Nothing new is stored on b; what was stays until the stream's limits.
    await assert.rejects(js.publish('b', new TextEncoder().encode('x')), /503|no responders/i);
    assert.equal((await jsm.streams.info('EXACT')).state.messages, 1);
    await jsm.streams.delete('EXACT');
  });

  it('does not create a stream no Trigger needs', async () => {
    assert.equal(await ensureStream(jsm, { name: 'UNWANTED', subjects: [], duplicateWindowMs: 60_000 }), undefined);
    assert.equal(await streamInfo(nc, 'UNWANTED'), undefined);
  });

  it('repairs a stream holding `>` (it captured NATS\'s API traffic) and keeps its events', async () => {
    // What an older kfn made for a Trigger on `>`.
    await jsm.streams.add({ name: 'DAMAGED', subjects: ['>'] });
    const js = nc.jetstream();
    await js.publish('in.orders', new TextEncoder().encode('event-1'));
    // The damage: JetStream's API requests are stored too (and answered twice, the
    // stream's PubAck often first, which nats.js takes for the API's answer).
    const stored = (await streamInfo(nc, 'DAMAGED'))?.state.messages ?? 0;
    assert.ok(stored >= 1);
    await jsm.streams.getMessage('DAMAGED', { last_by_subj: '$JS.API.STREAM.INFO.DAMAGED' });

    const repaired = await ensureStream(jsm, { name: 'DAMAGED', subjects: ['in.>'], duplicateWindowMs: 60_000, owned: true });
    assert.deepEqual(repaired?.config.subjects, ['in.>']);
    const info = await jsm.streams.info('DAMAGED');
    assert.deepEqual(info.config.subjects, ['in.>']);
    assert.ok(info.state.messages >= stored, 'no stored message was lost');
    const first = await jsm.streams.getMessage('DAMAGED', { last_by_subj: 'in.orders' });
    assert.equal(new TextDecoder().decode(first.data), 'event-1');
    // And it is a normal stream again: API requests are no longer stored.
    const before = info.state.messages;
    await jsm.streams.info('DAMAGED');
    assert.equal((await jsm.streams.info('DAMAGED')).state.messages, before);
    await jsm.streams.delete('DAMAGED');
  });

  it('repairs a stream holding NATS\'s own subjects ($…, _INBOX.…)', async () => {
    // nats-server itself refuses $JS.API.>, but not these, which older kfn Triggers could name.
    await jsm.streams.add({ name: 'OLDKFN', subjects: ['orders.>', '$KFN.dead.x', '_INBOX.>', '*'] });
    const repaired = await ensureStream(jsm, { name: 'OLDKFN', subjects: ['orders.>'], duplicateWindowMs: 60_000, owned: true });
    assert.deepEqual(repaired?.config.subjects, ['orders.>']);
    assert.deepEqual((await jsm.streams.info('OLDKFN')).config.subjects, ['orders.>']);
  });

  it('marks the streams it makes as kfn\'s, and manages their subjects exactly', async () => {
    await ensureStream(jsm, { name: 'MADE', subjects: ['m.a', 'm.b'], duplicateWindowMs: 60_000 });
    assert.equal((await jsm.streams.info('MADE')).config.description, KFN_STREAM_DESCRIPTION);
    await ensureStream(jsm, { name: 'MADE', subjects: ['m.a'], duplicateWindowMs: 60_000 });
    assert.deepEqual((await jsm.streams.info('MADE')).config.subjects, ['m.a']);
  });

  it('only adds to a stream someone else made: its other subjects, window and description stay', async () => {
    // An application's own stream, named by a Trigger's spec.stream.
    await jsm.streams.add({ name: 'APP', subjects: ['app.orders.>', 'app.billing.>'], description: 'the shop', duplicate_window: 5_000_000_000 });
    await ensureStream(jsm, { name: 'APP', subjects: ['app.orders.>', 'app.dlq'], duplicateWindowMs: 60_000 });
    let info = await jsm.streams.info('APP');
    assert.deepEqual(info.config.subjects, ['app.orders.>', 'app.billing.>', 'app.dlq']);
    assert.deepEqual([info.config.description, info.config.duplicate_window], ['the shop', 5_000_000_000]);
    // Its Trigger gone: nothing is taken away from the application.
    await ensureStream(jsm, { name: 'APP', subjects: [], duplicateWindowMs: 60_000 });
    info = await jsm.streams.info('APP');
    assert.deepEqual(info.config.subjects, ['app.orders.>', 'app.billing.>', 'app.dlq']);
  });
});
