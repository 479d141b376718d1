// `kfn dlq list|redrive` against a real nats-server and the real dispatcher: with
// --subject (any NATS, no kfn dev), and with the trigger looked up through a stand-in for
// kfn dev's admin API (GET /api/triggers/<ns>/<name>).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { headers as natsHeaders } from 'nats';
import type { KfnTrigger } from '../../pkg/apis/trigger/types.js';
import { waitFor } from '../util/wait.js';
import { event, publish, startSuite, trigger, type Suite } from '../events/dispatcher/harness.js';
import { kfn, tempHome } from './run.js';

const SUBJECT = 'events.cli';
const DLQ = 'dl.cli';

describe('kfn dlq', () => {
  let s: Suite;
  let t: KfnTrigger;
  let other: KfnTrigger;
  let home: string;
  let admin: Server;
  let adminUrl = '';
  let noDlqName = '';
  const events = [event({ type: 'shop.order.created' }, { n: 1 }), event({ type: 'shop.order.created' }, { n: 2 })];
  const counters = (x: KfnTrigger) => s.dispatcher.status({ namespace: 'default', name: x.metadata.name })!.counters;
  const dlq = (...args: string[]) => kfn(['dlq', ...args, '--nats', s.nats.url], { home });

  before(async () => {
    s = await startSuite();
    home = await tempHome();
    const delivery = { retries: 2, backoff: { policy: 'linear' as const, delay: '20ms', maxDelay: '1s' }, deadLetterSubject: DLQ };
    t = trigger(SUBJECT, { path: '/t', delivery });
    other = trigger(SUBJECT, { path: '/other', delivery });
    await s.dispatcher.upsertTrigger(t);
    await s.dispatcher.upsertTrigger(other);
    s.fn.behaviour = () => ({ status: 503, body: 'database down' });
    for (const e of events) await publish(s.js, SUBJECT, e);
    await waitFor('the dead letters', () => counters(t).deadLettered === 2 && counters(other).deadLettered === 2);

    // kfn dev's admin API as far as `kfn dlq` uses it.
    const noDlq = trigger(SUBJECT, {});
    const known = new Map([t, noDlq].map((x) => [`/api/triggers/default/${x.metadata.name}`, x]));
    admin = createServer((req, res) => {
      const found = known.get(req.url ?? '');
      res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(found ?? { error: { code: 'not_found', message: 'trigger not found' } }));
    });
    await new Promise<void>((resolve) => admin.listen(0, '127.0.0.1', resolve));
    adminUrl = `http://127.0.0.1:${(admin.address() as AddressInfo).port}`;
    noDlqName = noDlq.metadata.name;
  });
  after(async () => {
    admin.closeAllConnections();
    await new Promise((resolve) => admin.close(resolve));
    await s.stop();
  });

  it('list --subject shows the trigger\'s dead letters as a table', async () => {
    const res = await dlq('list', t.metadata.name, '--subject', DLQ);
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trim().split('\n');
    assert.match(lines[0]!, /^SEQ\s+TIME\s+ID\s+TYPE\s+REASON\s+STATUS\s+ATTEMPTS\s+ERROR$/);
    assert.equal(lines.length, 3, res.stdout);
    for (const e of events) {
      assert.match(res.stdout, new RegExp(`\\d+\\s+\\S+\\s+${e.attributes.id}\\s+shop\\.order\\.created\\s+retries-exhausted\\s+503\\s+3\\s+function answered 503: database down`));
    }
  });

  it('list -o json has every field, and looks the subject up through kfn dev', async () => {
    const res = await kfn(['dlq', 'list', t.metadata.name, '-o', 'json', '--nats', s.nats.url, '--admin', adminUrl], { home });
    assert.equal(res.code, 0, res.stderr);
    const entries = JSON.parse(res.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(entries.map((e) => e.id).sort(), events.map((e) => e.attributes.id).sort());
    for (const e of entries) {
      assert.equal(e.subject, SUBJECT);
      assert.equal(e.reason, 'retries-exhausted');
      assert.equal(e.attempts, 3);
      assert.equal(e.status, 503);
      assert.equal(e.function, 'echo');
    }
  });

  it('names the trigger kfn dev does not know, or that keeps no dead letters', async () => {
    const missing = await kfn(['dlq', 'list', 'nope', '--nats', s.nats.url, '--admin', adminUrl], { home });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /trigger default\/nope not found/);
    const none = await kfn(['dlq', 'redrive', noDlqName, '--nats', s.nats.url, '--admin', adminUrl], { home });
    assert.equal(none.code, 1);
    assert.match(none.stderr, new RegExp(`trigger default/${noDlqName} has no deadLetterSubject`));
    const noDev = await kfn(['dlq', 'list', 'x', '--nats', s.nats.url, '--admin', 'http://127.0.0.1:1'], { home });
    assert.equal(noDev.code, 1);
    assert.match(noDev.stderr, /cannot reach kfn dev at http:\/\/127\.0\.0\.1:1.*pass --subject/);
  });

  it('says when no stream holds the subject, or NATS is not there', async () => {
    const res = await dlq('list', t.metadata.name, '--subject', 'nowhere.dlq');
    assert.equal(res.code, 1);
    assert.match(res.stderr, /no JetStream stream holds the dead-letter subject nowhere\.dlq/);
    const down = await kfn(['dlq', 'list', t.metadata.name, '--subject', DLQ, '--nats', 'nats://127.0.0.1:1'], { home });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach NATS at nats:\/\/127\.0\.0\.1:1/);
  });

  it('redrive sends them back to that trigger alone, and empties its dead letters', async () => {
    s.fn.behaviour = () => ({ status: 200 });
    const delivered = counters(t).delivered;
    const filtered = counters(other).filtered;
    const res = await dlq('redrive', `default/${t.metadata.name}`, '--subject', DLQ);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`redriven 2 dead letters of trigger default/${t.metadata.name}`));
    await waitFor('the trigger to deliver both', () => counters(t).delivered === delivered + 2);
    await waitFor('the other trigger to skip both', () => counters(other).filtered === filtered + 2);
    for (const e of events) assert.equal(s.fn.forId(e.attributes.id).filter((r) => r.path.endsWith('/other')).length, 3, 'only the 3 failed attempts at the other trigger');

    const empty = await dlq('list', t.metadata.name, '--subject', DLQ);
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(empty.stdout, new RegExp(`no dead letters of trigger default/${t.metadata.name} on ${DLQ.replace('.', '\\.')}`));
    const again = await dlq('redrive', t.metadata.name, '--subject', DLQ);
    assert.match(again.stdout, /redriven 0 dead letters/);
    const others = JSON.parse((await dlq('list', other.metadata.name, '--subject', DLQ, '-o', 'json')).stdout) as unknown[];
    assert.equal(others.length, 2, "the other trigger's dead letters stay");
  });

  it('redrive names the dead letters it could not send back, keeps them, and exits 1', async () => {
    const h = natsHeaders();
    for (const [k, v] of Object.entries({
      'ce-specversion': '1.0',
      'ce-id': 'stuck-1',
      'ce-source': '/test',
      'ce-type': 'test.created',
      'kfn-dlq-reason': 'rejected',
      'kfn-dlq-attempts': '1',
      'kfn-dlq-trigger': 'default/stuck',
      'kfn-dlq-function': 'echo',
      'kfn-dlq-subject': 'nowhere.at.all',
    })) h.set(k, v);
    await s.js.publish(DLQ, new Uint8Array(), { headers: h });
    const res = await dlq('redrive', 'stuck', '--subject', DLQ);
    assert.equal(res.code, 1);
    assert.match(res.stdout, /redriven 0 dead letters of trigger default\/stuck/);
    assert.match(res.stderr, /failed: seq \d+ \(event stuck-1\): republishing to nowhere\.at\.all: no JetStream stream holds the subject/);
    assert.match(res.stderr, /1 dead letter could not be redriven and stays in dl\.cli/);
    const left = JSON.parse((await dlq('list', 'stuck', '--subject', DLQ, '-o', 'json')).stdout) as unknown[];
    assert.equal(left.length, 1);
  });
});
