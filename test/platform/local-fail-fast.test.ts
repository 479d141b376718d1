// Fail-fast of a function whose process exits at start, with real processes: the failure
// the activator answers 503 with is lifted while an attempt is under way and at zero, and
// comes back when an attempt fails; status keeps the reason throughout.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { KfnFunction } from '../../pkg/apis/function/types.js';
import type { FunctionKey } from '../../pkg/apis/meta.js';
import { LocalPlatform } from '../../pkg/platform/local/index.js';
import { LOCAL_DIR_ANNOTATION } from '../../pkg/platform/local/launch.js';
import type { EndpointsUpdate } from '../../pkg/platform/types.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { waitFor } from '../util/wait.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const helloHandler = pathToFileURL(path.join(root, 'samples', 'hello', 'handler.js')).href;
const key: FunctionKey = { namespace: 'default', name: 'crash' };
const CRASH = "console.error('boom: missing DATABASE_URL');\nprocess.exit(3);\n";

const cleanups: Array<() => Promise<void>> = [];
void afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ platform: LocalPlatform; updates: EndpointsUpdate[]; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kfn-failfast-'));
  await writeFile(path.join(dir, 'app.js'), CRASH);
  // A constant 200 ms between attempts: several fail before the fix, and the next one comes soon after it.
  const platform = new LocalPlatform({
    log: quietLogger(),
    runtimeBinDir: path.join(root, 'bin'),
    options: { drainTimeoutMs: 5_000, restartBackoff: { kind: 'linear', baseMs: 200, maxMs: 200 } },
  });
  cleanups.push(async () => {
    await platform.close();
    await rm(dir, { recursive: true, force: true });
  });
  const updates: EndpointsUpdate[] = [];
  platform.watchEndpoints((u) => updates.push(u));
  const fn: KfnFunction = {
    apiVersion: 'kfn.dev/v1alpha1',
    kind: 'Function',
    metadata: { name: key.name, namespace: key.namespace, annotations: { [LOCAL_DIR_ANNOTATION]: dir } },
    spec: { image: 'kfn/crash:dev', command: ['kfn-node-runtime'], args: ['app.js'] },
  };
  await platform.applyFunction(fn);
  return { platform, updates, dir };
}

describe('LocalPlatform fail-fast', () => {
  it('a new start attempt lifts the failure before its replica is ready, so requests wait for the attempt that may be the fix', async () => {
    const { platform, updates, dir } = await setup();
    await platform.setScale(key, 1);
    await waitFor('the start failure on the endpoints', () => updates.at(-1)?.failure?.reason === 'ExitedAtStart', { timeoutMs: 30_000 });
    await writeFile(path.join(dir, 'app.js'), `export { default } from ${JSON.stringify(helloHandler)};\n`);
    const fixedAt = updates.length;
    await waitFor('a ready replica', () => (updates.at(-1)?.endpoints.length ?? 0) === 1, { timeoutMs: 30_000 });
    const after = updates.slice(fixedAt);
    const lastFailure = after.findLastIndex((u) => u.failure !== undefined);
    const ready = after.findIndex((u) => u.endpoints.length === 1);
    assert.ok(
      after.slice(lastFailure + 1, ready).some((u) => u.endpoints.length === 0 && u.failure === undefined),
      `the attempt that became ready was published as under way first: ${JSON.stringify(after.map((u) => [u.endpoints.length, u.failure?.reason]))}`,
    );
    assert.equal(platform.workloadStatus(key)?.failure, undefined);
  });

  it('while an attempt runs the status keeps the reason; at zero nothing fails fast, and a scale-up tries at once', async () => {
    const { platform, updates } = await setup();
    await platform.setScale(key, 1);
    await waitFor('the start failure on the endpoints', () => updates.at(-1)?.failure?.reason === 'ExitedAtStart', { timeoutMs: 30_000 });
    assert.equal(platform.workloadStatus(key)?.failure?.reason, 'ExitedAtStart');
    await platform.setScale(key, 0);
    assert.equal(updates.at(-1)?.failure, undefined, 'at zero a request may ask for a new attempt');
    assert.equal(platform.workloadStatus(key)?.failure?.reason, 'ExitedAtStart', 'status still says why it failed');
    const restarts = platform.workloadStatus(key)?.restarts ?? 0;
    await platform.setScale(key, 1);
    assert.equal(updates.at(-1)?.failure, undefined, 'the attempt is under way');
    await waitFor('the attempt to fail again', () => updates.at(-1)?.failure?.reason === 'ExitedAtStart' && (platform.workloadStatus(key)?.restarts ?? 0) > restarts, { timeoutMs: 30_000 });
  });
});
