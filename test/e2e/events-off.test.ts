// kfn dev on a machine without nats-server: functions still serve, the log says how to
// install it, and a Trigger says why it is not ready.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { helloManifest, startDev } from '../util/dev.js';
import { waitFor } from '../util/wait.js';

test('without nats-server, kfn dev serves functions and each Trigger names the fix', async () => {
  const trigger = {
    apiVersion: 'kfn.dev/v1alpha1',
    kind: 'Trigger',
    metadata: { name: 'on-orders', namespace: 'default' },
    spec: { subject: 'orders.>', function: 'hello' },
  };
  const dev = await startDev(
    { 'hello.yaml': `${helloManifest('hello')}---\n${JSON.stringify(trigger)}\n` },
    ['--nats-server', '/nonexistent/nats-server'],
  );
  try {
    assert.equal(dev.nats, undefined);
    assert.match(dev.output(), /nats-server was not found at \/nonexistent\/nats-server; install nats-server/);
    const res = await fetch(`${dev.activator}/default/hello/`);
    assert.equal(res.status, 200);
    const t = await waitFor('the trigger status', async () => {
      const got = await dev.getTrigger('on-orders');
      return got.status?.conditions?.some((c) => c.type === 'Ready') ? got : undefined;
    });
    const ready = t.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'NatsServerMissing');
    assert.match(ready?.message ?? '', /apt-get install nats-server/);
  } finally {
    await dev.stop();
  }
});
