// Only events get in, as a user (or an attacker on the same network) meets `kfn dev`:
// raw HTTP to its ingress aimed at JetStream's API changes nothing, a subject no
// trigger's stream holds is refused, and the stream holds just its trigger's subjects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'nats';
import { helloManifest, startDev } from '../util/dev.js';
import { postEvent, triggerManifest, waitTriggersReady } from './events-util.js';

const ce = { 'ce-specversion': '1.0', 'ce-id': 'attack-1', 'ce-source': '/attacker', 'ce-type': 'x', 'content-type': 'text/plain' };

test("kfn dev's ingress refuses JetStream API subjects and subjects no trigger's stream holds; the stream and consumer survive", async () => {
  const dev = await startDev({
    'hello.yaml': helloManifest('hello'),
    'orders.yaml': triggerManifest('orders', { subject: 'orders.>', function: 'hello' }),
  });
  try {
    assert.ok(dev.ingress && dev.nats, 'kfn dev runs without its event bus; is nats-server installed?');
    await waitTriggersReady(dev.admin, ['orders']);
    for (const subject of ['$JS.API.STREAM.DELETE.KFN', '$JS.API.CONSUMER.DELETE.KFN.kfn_default_orders', '_INBOX.x']) {
      const res = await postEvent(dev.ingress, subject, ce, '');
      assert.equal(res.status, 400, `${subject}: ${JSON.stringify(res.body)}`);
    }
    const none = await postEvent(dev.ingress, 'payments.created', ce, 'x');
    assert.equal(none.status, 404, JSON.stringify(none.body));
    const ok = await postEvent(dev.ingress, 'orders.created', { ...ce, 'ce-id': 'real-1' }, 'x');
    assert.equal(ok.status, 202, JSON.stringify(ok.body));

    const nc = await connect({ servers: dev.nats });
    try {
      const jsm = await nc.jetstreamManager();
      assert.deepEqual((await jsm.streams.info('KFN')).config.subjects, ['orders.>']);
      assert.equal((await jsm.consumers.info('KFN', 'kfn_default_orders')).name, 'kfn_default_orders');
    } finally {
      await nc.close();
    }
    assert.equal((await dev.getTrigger('orders')).status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- kfn dev output (tail) ---\n${dev.output().slice(-4000)}`, { cause: err });
  } finally {
    await dev.stop();
  }
});
