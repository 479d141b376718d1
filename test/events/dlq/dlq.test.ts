// Listing and redriving a trigger's dead letters against the real dispatcher: an
// always-failing function fills the dead-letter subject, and after the "fix" a redrive
// hands each event back to its own trigger once, and to no other trigger.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { headers as natsHeaders } from 'nats';
import type { KfnTrigger } from '../../../pkg/apis/trigger/types.js';
import { DeadLetterError, listDeadLetters, redriveDeadLetters } from '../../../pkg/events/dlq/dlq.js';
import { waitFor } from '../../util/wait.js';
import { event, header, publish, startSuite, STREAM, trigger, type Suite } from '../dispatcher/harness.js';

const SUBJECT = 'events.orders';
const DLQ = 'dl.orders';

describe('dead letters: list and redrive on a real nats-server', () => {
  let s: Suite;
  let a: KfnTrigger;
  let b: KfnTrigger;
  const keyOf = (t: KfnTrigger): string => `default/${t.metadata.name}`;
  const counters = (t: KfnTrigger) => s.dispatcher.status({ namespace: 'default', name: t.metadata.name })!.counters;
  const deliveredTo = (path: string, id: string): number => s.fn.forId(id).filter((r) => r.path === `/default/echo${path}` && r.at >= fixedAt).length;
  const onSubject = async (): Promise<number> => (await s.jsm.streams.info(STREAM, { subjects_filter: SUBJECT })).state.subjects?.[SUBJECT] ?? 0;
  let fixedAt = Infinity;
  const events = [event({}, { order: 1 }), event({}, { order: 2 })];

  before(async () => {
    s = await startSuite();
    const delivery = { retries: 1, backoff: { policy: 'linear' as const, delay: '20ms', maxDelay: '1s' }, deadLetterSubject: DLQ };
    // Two triggers on one subject sharing one dead-letter subject.
    a = trigger(SUBJECT, { path: '/a', delivery });
    b = trigger(SUBJECT, { path: '/b', delivery });
    await s.dispatcher.upsertTrigger(a);
    await s.dispatcher.upsertTrigger(b);
    s.fn.behaviour = () => ({ status: 500, body: 'bug in the handler' });
    for (const e of events) await publish(s.js, SUBJECT, e);
    await waitFor('all four dead letters', () => counters(a).deadLettered === 2 && counters(b).deadLettered === 2);
  });
  after(async () => {
    await s.stop();
  });

  it('lists only this trigger\'s dead letters, with why and where from', async () => {
    const list = await listDeadLetters(s.jsm, { trigger: keyOf(a), deadLetterSubject: DLQ });
    assert.deepEqual(
      list.map((l) => l.id).sort(),
      events.map((e) => e.attributes.id).sort(),
    );
    for (const l of list) {
      assert.equal(l.stream, STREAM);
      assert.equal(l.reason, 'retries-exhausted');
      assert.equal(l.status, 500);
      assert.equal(l.attempts, 2);
      assert.equal(l.subject, SUBJECT);
      assert.equal(l.function, 'echo');
      assert.equal(l.type, 'test.created');
      assert.equal(l.source, '/test');
      assert.match(l.lastError ?? '', /bug in the handler/);
      assert.ok(!Number.isNaN(Date.parse(l.time)));
    }
    assert.equal((await listDeadLetters(s.jsm, { trigger: keyOf(b), deadLetterSubject: DLQ })).length, 2);
    assert.equal((await listDeadLetters(s.jsm, { trigger: keyOf(a), deadLetterSubject: DLQ, limit: 1 })).length, 1);
    assert.deepEqual(await listDeadLetters(s.jsm, { trigger: 'default/nobody', deadLetterSubject: DLQ }), []);
  });

  it('redrives to that trigger only, once, and empties its dead letters', async () => {
    s.fn.behaviour = () => ({ status: 200 });
    fixedAt = Date.now();
    const deliveredBefore = counters(a).delivered;
    const filteredBefore = counters(b).filtered;
    const result = await redriveDeadLetters(s.js, s.jsm, { trigger: keyOf(a), deadLetterSubject: DLQ });
    assert.deepEqual(result, { redriven: 2, failed: [] });
    await waitFor('a to deliver both', () => counters(a).delivered === deliveredBefore + 2);
    await waitFor('b to skip both', () => counters(b).filtered === filteredBefore + 2);
    for (const e of events) {
      assert.equal(deliveredTo('/a', e.attributes.id), 1, `a got ${e.attributes.id} once`);
      assert.equal(deliveredTo('/b', e.attributes.id), 0, `b did not get ${e.attributes.id}`);
    }
    assert.deepEqual(await listDeadLetters(s.jsm, { trigger: keyOf(a), deadLetterSubject: DLQ }), []);
    assert.equal((await listDeadLetters(s.jsm, { trigger: keyOf(b), deadLetterSubject: DLQ })).length, 2, "b's dead letters stay");
  });

  it('a second redrive finds nothing and delivers nothing again', async () => {
    const stored = await onSubject();
    const result = await redriveDeadLetters(s.js, s.jsm, { trigger: keyOf(a), deadLetterSubject: DLQ });
    assert.deepEqual(result, { redriven: 0, failed: [] });
    assert.equal(await onSubject(), stored);
    for (const e of events) assert.equal(deliveredTo('/a', e.attributes.id), 1);
  });

  it('two redrives at once store each event once', async () => {
    const stored = await onSubject();
    const deliveredBefore = counters(b).delivered;
    const [x, y] = await Promise.all([
      redriveDeadLetters(s.js, s.jsm, { trigger: keyOf(b), deadLetterSubject: DLQ }),
      redriveDeadLetters(s.js, s.jsm, { trigger: keyOf(b), deadLetterSubject: DLQ }),
    ]);
    assert.deepEqual([...x.failed, ...y.failed], []);
    assert.ok(x.redriven + y.redriven >= 2);
    await waitFor('b to deliver both', () => counters(b).delivered === deliveredBefore + 2);
    assert.equal(await onSubject(), stored + 2, 'the duplicate window dropped the second copy');
    for (const e of events) assert.equal(deliveredTo('/b', e.attributes.id), 1);
    assert.deepEqual(await listDeadLetters(s.jsm, { trigger: keyOf(b), deadLetterSubject: DLQ }), []);
  });

  it('keeps and reports a dead letter whose subject no stream holds', async () => {
    const h = natsHeaders();
    for (const [k, v] of Object.entries({
      'ce-specversion': '1.0',
      'ce-id': 'lost-1',
      'ce-source': '/test',
      'ce-type': 'test.created',
      'kfn-dlq-reason': 'rejected',
      'kfn-dlq-attempts': '1',
      'kfn-dlq-trigger': 'default/gone',
      'kfn-dlq-function': 'echo',
      'kfn-dlq-subject': 'nowhere.at.all',
    })) h.set(k, v);
    await s.js.publish('dl.gone', new Uint8Array(), { headers: h });
    const result = await redriveDeadLetters(s.js, s.jsm, { trigger: 'default/gone', deadLetterSubject: 'dl.gone' });
    assert.equal(result.redriven, 0);
    assert.equal(result.failed.length, 1);
    assert.equal(result.failed[0]?.id, 'lost-1');
    assert.match(result.failed[0]?.error ?? '', /nowhere\.at\.all: no JetStream stream holds the subject/);
    assert.equal((await listDeadLetters(s.jsm, { trigger: 'default/gone', deadLetterSubject: 'dl.gone' })).length, 1);
  });

  it('says so when no stream holds the dead-letter subject', async () => {
    await assert.rejects(listDeadLetters(s.jsm, { trigger: keyOf(a), deadLetterSubject: 'nowhere.dlq' }), (err: Error) => {
      assert.ok(err instanceof DeadLetterError);
      assert.match(err.message, /no JetStream stream holds the dead-letter subject nowhere\.dlq/);
      return true;
    });
  });

  it('a redriven event that fails again comes back as one new dead letter', async () => {
    s.fn.behaviour = (r) => ({ status: header(r.headers, 'ce-id') === 'again-1' ? 500 : 200 });
    const t = trigger('events.again', { delivery: { retries: 0, deadLetterSubject: 'dl.again' } });
    await s.dispatcher.upsertTrigger(t);
    await publish(s.js, 'events.again', event({ id: 'again-1' }));
    await waitFor('the first dead letter', () => counters(t).deadLettered === 1);
    const result = await redriveDeadLetters(s.js, s.jsm, { trigger: keyOf(t), deadLetterSubject: 'dl.again' });
    assert.deepEqual(result, { redriven: 1, failed: [] });
    await waitFor('the second dead letter', () => counters(t).deadLettered === 2);
    const list = await listDeadLetters(s.jsm, { trigger: keyOf(t), deadLetterSubject: 'dl.again' });
    assert.equal(list.length, 1);
    assert.equal(list[0]?.id, 'again-1');
    assert.equal(list[0]?.subject, 'events.again');
    s.fn.behaviour = () => ({ status: 200 });
  });
});
