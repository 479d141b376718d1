// A new Function reaches the autoscaler before the controller has created its Deployment,
// so its first scale writes find no workload. That is the normal start of every Function:
// debug lines only, and the scale lands once the workload exists. Only a workload still
// missing after MISSING_WORKLOAD_WARN_MS gets a warn line, once; other failures warn
// every time. Time is a FakeClock moved by hand.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { keyOf, type FunctionKey } from '../../pkg/apis/meta.js';
import { Autoscaler, MISSING_WORKLOAD_WARN_MS, type ScaleWriter } from '../../pkg/autoscaler/autoscaler.js';
import { autoscalerConfig } from '../../pkg/autoscaler/config.js';
import { WorkloadNotFoundError } from '../../pkg/platform/types.js';
import { FakeClock } from '../../pkg/shared/clock.js';

const hello: FunctionKey = { namespace: 'default', name: 'hello' };
const TICK = 2000;

/** A platform on which a function's workload exists only once `create` is called; `fail` makes writes fail otherwise. */
class Workloads implements ScaleWriter {
  readonly exists = new Set<string>();
  readonly scale = new Map<string, number>();
  fail: Error | undefined;
  setScale(key: FunctionKey, n: number): Promise<void> {
    if (this.fail) return Promise.reject(this.fail);
    if (!this.exists.has(keyOf(key))) return Promise.reject(new WorkloadNotFoundError(`setScale ${keyOf(key)}: no Deployment`));
    this.scale.set(keyOf(key), n);
    return Promise.resolve();
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setup() {
  const lines: Array<{ level: number; msg: string; fn?: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  const clock = new FakeClock(0);
  const workloads = new Workloads();
  const autoscaler = new Autoscaler({
    config: autoscalerConfig({ tickIntervalMs: TICK }),
    scaleWriter: workloads,
    readyReplicas: () => 0,
    clock,
    log: pino({ level: 'debug' }, stream),
  });
  const tickFor = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += TICK) {
      clock.advance(TICK);
      autoscaler.tick();
      await settle();
    }
  };
  const warnings = (): string[] => lines.filter((l) => l.level >= 40).map((l) => l.msg);
  return { lines, clock, workloads, autoscaler, tickFor, warnings };
}

describe('autoscaler: a function whose workload does not exist yet', () => {
  test('is quiet while the controller creates it, and is scaled once it exists', async () => {
    const { lines, workloads, autoscaler, tickFor, warnings } = setup();
    autoscaler.upsert(hello, { image: 'hello' });
    await settle();
    await tickFor(10_000);
    assert.deepEqual(warnings(), []);
    assert.ok(lines.some((l) => l.level === 20 && /no workload to scale yet/.test(l.msg) && l.fn === 'default/hello'), 'a debug line says why');
    workloads.exists.add('default/hello');
    await tickFor(TICK);
    assert.equal(workloads.scale.get('default/hello'), 1, 'initial scale written');
    assert.deepEqual(warnings(), []);
  });

  test(`warns once when it is still missing after ${MISSING_WORKLOAD_WARN_MS / 1000}s, not on every tick`, async () => {
    const { autoscaler, tickFor, warnings } = setup();
    autoscaler.upsert(hello, { image: 'hello' });
    await settle();
    await tickFor(MISSING_WORKLOAD_WARN_MS - TICK);
    assert.deepEqual(warnings(), []);
    await tickFor(5 * MISSING_WORKLOAD_WARN_MS);
    assert.deepEqual(warnings(), ['the function still has no workload to scale; is the controller creating it?']);
  });

  test('any other failure warns on every attempt', async () => {
    const { workloads, autoscaler, tickFor, warnings } = setup();
    workloads.fail = new Error('API server answered 500');
    autoscaler.upsert(hello, { image: 'hello' });
    await settle();
    await tickFor(3 * TICK);
    assert.equal(warnings().length, 4);
    assert.ok(warnings().every((m) => m === 'writing the scale failed; retrying on the next tick'));
  });
});
