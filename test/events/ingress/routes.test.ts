// Which of kfn's streams a subject goes to, and how the cached answer stays cheap and
// fresh: an injected clock and a recording stream-info lookup, no NATS.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StreamInfo } from 'nats';
import { routeOf, SubjectRoutes } from '../../../pkg/events/ingress/routes.js';
import { quietLogger } from '../../../pkg/shared/log.js';

describe('routeOf', () => {
  const table = new Map([['KFN', ['orders.>', 'dlq.orders']], ['OTHER', ['pay.*']]]);
  const rows: Array<[string, string | undefined]> = [
    ['orders.created', 'KFN'], ['orders.eu.new', 'KFN'], ['dlq.orders', 'KFN'], ['pay.x', 'OTHER'],
    ['orders', undefined], ['pay.x.y', undefined], ['nowhere', undefined],
  ];
  for (const [subject, want] of rows) it(`${subject} → ${want ?? 'no stream'}`, () => assert.equal(routeOf(table, subject), want));
});

function harness(subjects: Record<string, string[]>) {
  let now = 0;
  const calls: string[] = [];
  const state = { subjects, fail: false };
  const routes = new SubjectRoutes({
    streams: () => Object.keys(state.subjects).concat(['MISSING']),
    info: (stream) => {
      calls.push(stream);
      if (state.fail) return Promise.reject(new Error('NATS is away'));
      const s = state.subjects[stream];
      return Promise.resolve(s ? ({ config: { subjects: s } } as unknown as StreamInfo) : undefined);
    },
    log: quietLogger(),
    now: () => now,
    refreshMs: 5000,
    missRefreshMs: 1000,
  });
  return { routes, calls, state, advance: (ms: number) => (now += ms) };
}

describe('SubjectRoutes', () => {
  it('loads once, then answers from the cache', async () => {
    const h = harness({ KFN: ['in.>'] });
    assert.equal(await h.routes.streamFor('in.a'), 'KFN');
    const after = h.calls.length;
    for (let i = 0; i < 100; i++) assert.equal(await h.routes.streamFor(`in.${i}`), 'KFN');
    assert.equal(h.calls.length, after);
  });

  it('a subject not found refreshes at most once per missRefreshMs, so a new Trigger is reachable at once', async () => {
    const h = harness({ KFN: ['in.>'] });
    await h.routes.streamFor('in.a');
    h.state.subjects.KFN = ['in.>', 'new.x'];
    const loads = h.calls.length;
    assert.equal(await h.routes.streamFor('new.x'), undefined, 'just loaded: no refresh yet');
    assert.equal(h.calls.length, loads);
    h.advance(1001);
    assert.equal(await h.routes.streamFor('new.x'), 'KFN');
    const after = h.calls.length;
    for (let i = 0; i < 50; i++) await h.routes.streamFor(`random.${i}`);
    assert.equal(h.calls.length, after, 'misses within missRefreshMs of a load do not reload');
  });

  it('refreshes in the background once stale, and forgets a subject that left the stream', async () => {
    const h = harness({ KFN: ['in.>'] });
    await h.routes.streamFor('in.a');
    h.state.subjects.KFN = ['other.>'];
    h.advance(5001);
    await h.routes.streamFor('in.a');
    await h.routes.refresh();
    h.advance(1);
    assert.equal(await h.routes.streamFor('in.a'), undefined);
  });

  it('says it could not read a stream it knew nothing of, and keeps what it knew of the others', async () => {
    const h = harness({ KFN: ['in.>'] });
    h.state.fail = true;
    assert.equal(await h.routes.streamFor('in.a'), undefined);
    assert.match(String(h.routes.unreadable), /NATS is away/);
    h.state.fail = false;
    h.advance(1001);
    assert.equal(await h.routes.streamFor('in.a'), 'KFN');
    assert.equal(h.routes.unreadable, undefined);
    h.state.fail = true;
    h.advance(5001);
    await h.routes.refresh();
    assert.equal(await h.routes.streamFor('in.b'), 'KFN', 'the known subjects survive a failed refresh');
  });
});
