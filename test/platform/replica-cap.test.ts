// The machine-wide cap on local replicas: the pure decision as a table, then the local
// platform with real replicas of samples/hello and a cap of 3 shared by two functions.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { KfnFunction } from '../../pkg/apis/function/types.js';
import type { FunctionKey } from '../../pkg/apis/meta.js';
import { LocalPlatform } from '../../pkg/platform/local/index.js';
import type { EndpointsUpdate } from '../../pkg/platform/types.js';
import { LOCAL_DIR_ANNOTATION } from '../../pkg/platform/local/launch.js';
import { capActivationFailure, capStart, defaultMaxReplicas } from '../../pkg/platform/local/replica-cap.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { waitFor } from '../util/wait.js';

const GiB = 1024 ** 3;

describe('capStart', () => {
  const rows: Array<{ name: string; args: [desired: number, toStart: number, left: number, cap: number]; start: number; shortfall?: { wanted: number; allowed: number } }> = [
    { name: 'room for all: start them, nothing to report', args: [3, 3, 10, 10], start: 3 },
    { name: 'exactly the room left', args: [5, 2, 2, 8], start: 2 },
    { name: 'scale.min 200 with 3 running and 5 left: 5 more, 8 of 200', args: [200, 197, 5, 64], start: 5, shortfall: { wanted: 200, allowed: 8 } },
    { name: 'scale.min 100000 on an empty machine with a cap of 64: 64', args: [100_000, 100_000, 64, 64], start: 64, shortfall: { wanted: 100_000, allowed: 64 } },
    { name: 'nothing left: start none', args: [2, 2, 0, 4], start: 0, shortfall: { wanted: 2, allowed: 0 } },
    { name: 'others went over the cap (a roll): never negative', args: [2, 1, -3, 4], start: 0, shortfall: { wanted: 2, allowed: 1 } },
    { name: 'nothing to start: nothing to report, whatever is left', args: [4, 0, 0, 4], start: 0 },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const got = capStart(...row.args);
      assert.equal(got.start, row.start);
      assert.deepEqual(got.shortfall, row.shortfall ? { ...row.shortfall, cap: row.args[3] } : undefined);
    });
  }

  it('fails requests at once only while the cap leaves the function nothing', () => {
    assert.equal(capActivationFailure(undefined), undefined);
    assert.equal(capActivationFailure({ wanted: 5, allowed: 2, cap: 2 }), undefined);
    assert.match(capActivationFailure({ wanted: 1, allowed: 0, cap: 4 })?.message ?? '', /cap of 4 replicas .* in use by other functions \(kfn dev --max-replicas/);
  });

  it('default: half the memory at 64 MiB a replica, at least one', () => {
    assert.equal(defaultMaxReplicas(8 * GiB), 64);
    assert.equal(defaultMaxReplicas(16 * GiB), 128);
    assert.equal(defaultMaxReplicas(24 * GiB), 192);
    assert.equal(defaultMaxReplicas(64 * 1024 * 1024), 1);
  });
});

const root = fileURLToPath(new URL('../../../', import.meta.url));
const helloDir = path.join(root, 'samples', 'hello');

function hello(name: string): KfnFunction {
  const fn = parse(readFileSync(path.join(helloDir, 'function.yaml'), 'utf8')) as KfnFunction;
  fn.metadata.name = name;
  fn.metadata.annotations = { ...fn.metadata.annotations, [LOCAL_DIR_ANNOTATION]: helloDir };
  return fn;
}

const open = new Set<LocalPlatform>();
void afterEach(async () => {
  for (const p of open) await p.close();
  open.clear();
});

describe('LocalPlatform with --max-replicas 3', () => {
  it('never runs more than the cap, reports the shortfall, and gives freed room to the function held back', async () => {
    const platform = new LocalPlatform({ log: quietLogger(), runtimeBinDir: path.join(root, 'bin'), options: { drainTimeoutMs: 5000, maxReplicas: 3 } });
    open.add(platform);
    const a: FunctionKey = { namespace: 'default', name: 'a' };
    const b: FunctionKey = { namespace: 'default', name: 'b' };
    const endpoints: EndpointsUpdate[] = [];
    platform.watchEndpoints((u) => endpoints.push(u));
    await platform.applyFunction(hello('a'));
    await platform.applyFunction(hello('b'));
    let most = 0;
    const count = (): number => (platform.describe(a)?.replicas.length ?? 0) + (platform.describe(b)?.replicas.length ?? 0);
    platform.watchStatus(() => (most = Math.max(most, count())));

    await platform.setScale(a, 100_000);
    await waitFor('a to have 3 ready replicas', () => platform.workloadStatus(a)?.readyReplicas === 3);
    assert.deepEqual(platform.workloadStatus(a)?.replicaCap, { wanted: 100_000, allowed: 3, cap: 3 });
    assert.equal(platform.workloadStatus(a)?.replicas, 3, 'no replica waits beyond the cap either');

    await platform.setScale(b, 2);
    await waitFor('b to say the cap holds it', () => platform.workloadStatus(b)?.replicaCap?.allowed === 0);
    assert.equal(platform.workloadStatus(b)?.replicas, 0);
    // The activator hears why b cannot start, so b's requests get 503 at once, not after its timeout.
    assert.equal(endpoints.filter((u) => u.key.name === 'b').at(-1)?.failure?.reason, 'ReplicaCapReached');
    assert.equal(endpoints.filter((u) => u.key.name === 'a').at(-1)?.failure, undefined, 'a serves: nothing to fail');

    // a lets go of two: b takes them without being told, and nobody is over the cap.
    await platform.setScale(a, 1);
    await waitFor('b to have 2 ready replicas', () => platform.workloadStatus(b)?.readyReplicas === 2);
    assert.equal(platform.workloadStatus(b)?.replicaCap, undefined);
    assert.equal(endpoints.filter((u) => u.key.name === 'b').at(-1)?.failure, undefined);
    assert.equal(platform.workloadStatus(a)?.replicaCap, undefined);
    const live = (k: FunctionKey): number => (platform.describe(k)?.replicas ?? []).filter((r) => r.state !== 'draining' && r.state !== 'exited').length;
    assert.equal(live(a) + live(b), 3);
    // Draining replicas of a may overlap b's new ones for a moment; never the 100000 asked for.
    assert.ok(most <= 5, `at most ${most} processes at once`);
  });
});
