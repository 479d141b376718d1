// spec.loadBalancing as a user writes it, through `kfn dev`: the manifest's policy reaches
// the activator, and a header keeps its requests on one of the function's real replicas.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { helloManifest, withDev } from '../util/dev.js';

test('consistentHash on a header keeps each user on one replica of three, through kfn dev', async () => {
  const sticky = helloManifest('sticky', {
    scale: { min: 3, initial: 3 },
    loadBalancing: { policy: 'consistentHash', consistentHash: { header: 'x-user' } },
  });
  await withDev({ 'sticky.yaml': sticky }, [], async (dev) => {
    await dev.waitStatus('sticky to have 3 ready replicas', 'sticky', (fn) => (fn.status?.readyReplicas ?? 0) >= 3, 45_000);
    const home = new Map<string, number>();
    for (let round = 0; round < 3; round++) {
      for (let u = 0; u < 10; u++) {
        const res = await fetch(`${dev.activator}/default/sticky/`, { headers: { 'x-user': `user-${u}` } });
        assert.equal(res.status, 200);
        const { replica } = (await res.json()) as { replica: number };
        if (round === 0) home.set(`user-${u}`, replica);
        else assert.equal(replica, home.get(`user-${u}`), `user-${u} moved in round ${round}`);
      }
    }
    assert.ok(new Set(home.values()).size >= 2, `10 users over 3 replicas used ${new Set(home.values()).size}`);
  });
});
