// kfn dev's machine-wide replica cap as a user meets it: a manifest asking for 100,000
// replicas gets what the cap allows, and its status and `kfn get` say why, naming the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { helloManifest, withDev } from '../util/dev.js';

const condition = (fn: { status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> } }, type: string) =>
  fn.status?.conditions?.find((c) => c.type === type);

test('kfn dev --max-replicas 2: scale.min 100000 gets 2 replicas and says ReplicaCapReached; a second function waits for room', async () => {
  const manifests = { 'huge.yaml': helloManifest('huge', { scale: { min: 100_000, max: 100_000 } }) };
  await withDev(manifests, ['--max-replicas', '2'], async (dev) => {
    const huge = await dev.waitStatus('huge to run 2 replicas, held by the cap', 'huge', (fn) => fn.status?.readyReplicas === 2 && condition(fn, 'Ready')?.reason === 'ReplicaCapReached');
    assert.equal(huge.status?.desiredReplicas, 100_000);
    assert.equal(huge.status?.replicas, 2, 'no more processes than the cap');
    assert.equal(condition(huge, 'Ready')?.status, 'False');
    assert.equal(condition(huge, 'Active')?.status, 'True', 'it serves on what it has');
    assert.match(condition(huge, 'Ready')?.message ?? '', /asks for 100000 replica\(s\).*cap of 2 replicas for all functions together leaves 2.*--max-replicas/);

    // A second function once huge holds the whole cap.
    await writeFile(path.join(dev.dir, 'small.yaml'), helloManifest('small', { scale: { min: 1 } }));
    const small = await dev.waitStatus('small to be held at 0 by the cap', 'small', (fn) => condition(fn, 'Active')?.reason === 'ReplicaCapReached');
    assert.equal(small.status?.replicas, 0);
    // Its requests are refused at once, saying why, rather than held for its whole timeout.
    const refused = await fetch(`${dev.activator}/default/small/`);
    assert.equal(refused.status, 503);
    assert.match(await refused.text(), /ReplicaCapReached|cap of 2 replicas/);

    const listed = await dev.kfn('get');
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /huge\s+\S+\s+False\s+2\/100000\s+ReplicaCapReached/, listed.stdout);

    const res = await fetch(`${dev.activator}/default/huge/`);
    assert.equal(res.status, 200);

    // Removing huge's file frees the cap: small starts without anyone touching it.
    await rm(path.join(dev.dir, 'huge.yaml'));
    const served = await dev.waitStatus('small to be ready once huge is gone', 'small', (fn) => condition(fn, 'Ready')?.status === 'True', 60_000);
    assert.equal(served.status?.readyReplicas, 1);
  });
});
