// Fail-fast (503 ExitedAtStart for a function whose process exits at start) lasts only while
// nothing is being tried: a fixed spec, or a request to a function back at zero, gets a new
// attempt, and the request waits for it instead of getting the old failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { helloManifest, withDev, type DevProcess } from '../util/dev.js';
import { get } from '../util/load.js';
import { waitFor } from '../util/wait.js';

// Short windows so a failing function is back at zero within seconds.
const FAST = ['--stable-window', '3s', '--panic-window-percentage', '50', '--scale-to-zero-grace', '1s', '--tick', '500ms'];
const CRASH = "console.error('boom: missing DATABASE_URL');\nprocess.exit(3);\n";

async function failFast(dev: DevProcess): Promise<void> {
  await dev.waitStatus('crash to be registered', 'crash', (fn) => fn.status?.url !== undefined);
  const res = await get(`${dev.activator}/default/crash/`);
  assert.equal(res.status, 503, res.body);
  assert.match(res.body, /ExitedAtStart/);
}

test('after a fixed spec is applied to a function that exits at start, the next request is served, not 503', async () => {
  const broken = helloManifest('crash', { args: ['crash.js'], timeoutSeconds: 60, scale: { initial: 0 } });
  await withDev({ 'crash.yaml': broken, 'crash.js': CRASH }, FAST, async (dev) => {
    await failFast(dev);
    const generation = (await dev.get('crash')).metadata.generation ?? 0;
    await writeFile(path.join(dev.dir, 'crash.yaml'), helloManifest('crash', { args: ['handler.js'], timeoutSeconds: 60, scale: { initial: 0 } }));
    await dev.waitStatus('the fixed spec to be applied', 'crash', (fn) => (fn.status?.observedGeneration ?? 0) > generation);
    const res = await get(`${dev.activator}/default/crash/`);
    assert.equal(res.status, 200, res.body);
  });
});

test('a function that exited at start and went back to zero is tried again by the next request, which is served once its code is fixed', async () => {
  const crash = helloManifest('crash', { args: ['crash.js'], timeoutSeconds: 60, scale: { initial: 0 } });
  await withDev({ 'crash.yaml': crash, 'crash.js': CRASH }, FAST, async (dev) => {
    await failFast(dev);
    // The autoscaler's log, not the status: status shows its desired count before the platform has it.
    await waitFor('the autoscaler to scale crash to zero', () => /"fn":"default\/crash","from":1,"to":0[^\n]*"msg":"scaled"/.test(dev.output()), { timeoutMs: 30_000 });
    // The code is fixed, not the spec: only a new attempt can find out.
    await writeFile(path.join(dev.dir, 'crash.js'), "export { default } from './handler.js';\n");
    const res = await get(`${dev.activator}/default/crash/`);
    assert.equal(res.status, 200, res.body);
  });
});
