import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FunctionSpec } from '../../pkg/apis/function/types.js';
import { autoscalerConfig, defaultAutoscalerConfig, scalingParams, type ScalingParams } from '../../pkg/autoscaler/config.js';

describe('autoscaler config', () => {
  test("defaults are Knative's config-autoscaler defaults", () => {
    assert.deepEqual(
      { ...defaultAutoscalerConfig },
      {
        stableWindowMs: 60_000,
        panicWindowPercentage: 10,
        panicThresholdPercentage: 200,
        targetConcurrency: 100,
        targetRequestsPerSecond: 200,
        targetUtilizationPercentage: 70,
        scaleToZeroGracePeriodMs: 30_000,
        scaleDownDelayMs: 0,
        maxScaleUpRate: 1000,
        maxScaleDownRate: 2,
        initialScale: 1,
        tickIntervalMs: 2000,
        enableScaleToZero: true,
        bucketMs: 1000,
      },
    );
    assert.ok(Object.isFrozen(defaultAutoscalerConfig));
  });

  test('overrides apply field by field; undefined keeps the default', () => {
    const cfg = autoscalerConfig({ stableWindowMs: 2000, scaleToZeroGracePeriodMs: 500, bucketMs: 100, tickIntervalMs: undefined });
    assert.equal(cfg.stableWindowMs, 2000);
    assert.equal(cfg.scaleToZeroGracePeriodMs, 500);
    assert.equal(cfg.bucketMs, 100);
    assert.equal(cfg.tickIntervalMs, 2000);
  });

  test('a bad override fails naming every bad field', () => {
    assert.throws(
      () => autoscalerConfig({ stableWindowMs: -1, maxScaleDownRate: 1, initialScale: 1.5 }),
      (err: Error) =>
        /stableWindowMs must be a positive number, got -1/.test(err.message) &&
        /maxScaleDownRate must be above 1/.test(err.message) &&
        /initialScale must be a whole number/.test(err.message),
    );
    assert.throws(() => autoscalerConfig({ bucketMs: 5000, stableWindowMs: 2000 }), /bucketMs must be positive and at most stableWindowMs/);
  });
});

describe('scalingParams', () => {
  const spec = (extra: Partial<FunctionSpec> = {}): FunctionSpec => ({ image: 'hello', ...extra });
  const cfg = autoscalerConfig();

  const rows: { name: string; spec: FunctionSpec; cfg?: Parameters<typeof autoscalerConfig>[0]; want: Partial<ScalingParams> }[] = [
    {
      name: 'no scale block: the config, target 100 × 70% = 70 per replica, panic window 10% of 60 s',
      spec: spec(),
      want: {
        target: 100,
        targetUtilization: 70,
        metric: 'concurrency',
        targetPerReplica: 70,
        stableWindowMs: 60_000,
        panicWindowMs: 6000,
        panicThreshold: 200,
        scaleToZeroGracePeriodMs: 30_000,
        scaleDownDelayMs: 0,
        maxScaleUpRate: 1000,
        maxScaleDownRate: 2,
        min: 0,
        max: 0,
        initial: 1,
        enableScaleToZero: true,
      },
    },
    {
      name: 'scale.* overrides the config, durations parsed: window 2m, grace 500ms, delay 1m30s',
      spec: spec({
        scale: {
          min: 1,
          max: 9,
          initial: 3,
          target: 20,
          targetUtilization: 50,
          window: '2m',
          panicWindowPercentage: 25,
          panicThreshold: 300,
          scaleToZeroGracePeriod: '500ms',
          scaleDownDelay: '1m30s',
          maxScaleUpRate: 10,
          maxScaleDownRate: 4,
        },
      }),
      want: {
        min: 1,
        max: 9,
        initial: 3,
        target: 20,
        targetPerReplica: 10,
        stableWindowMs: 120_000,
        panicWindowMs: 30_000,
        panicThreshold: 300,
        scaleToZeroGracePeriodMs: 500,
        scaleDownDelayMs: 90_000,
        maxScaleUpRate: 10,
        maxScaleDownRate: 4,
      },
    },
    {
      name: 'containerConcurrency 10 caps the default target 100: 10 × 70% = 7 per replica',
      spec: spec({ containerConcurrency: 10 }),
      want: { target: 10, targetPerReplica: 7 },
    },
    {
      name: 'containerConcurrency 10 leaves a lower target 5 alone',
      spec: spec({ containerConcurrency: 10, scale: { target: 5 } }),
      want: { target: 5, targetPerReplica: 3.5 },
    },
    {
      name: 'containerConcurrency 0 (unlimited) caps nothing',
      spec: spec({ containerConcurrency: 0, scale: { target: 500 } }),
      want: { target: 500 },
    },
    {
      // Knative's requests-per-second-target-default is 200, and its target utilization
      // (70%) applies to rps too: 140 requests/s per replica.
      name: 'metric rps without a target: 200 requests/s × 70% = 140 per replica',
      spec: spec({ scale: { metric: 'rps' } }),
      want: { metric: 'rps', target: 200, targetPerReplica: 140 },
    },
    {
      name: 'metric rps: containerConcurrency caps concurrency, not a rate: cc 1, target 50 at 80% → 40 requests/s per replica',
      spec: spec({ containerConcurrency: 1, scale: { metric: 'rps', target: 50, targetUtilization: 80 } }),
      want: { metric: 'rps', target: 50, targetPerReplica: 40 },
    },
    {
      name: 'the rps default target comes from the config like the concurrency one',
      spec: spec({ scale: { metric: 'rps', targetUtilization: 100 } }),
      cfg: { targetRequestsPerSecond: 30 },
      want: { target: 30, targetPerReplica: 30 },
    },
    {
      name: 'target per replica never below 0.01',
      spec: spec({ scale: { target: 0.001, targetUtilization: 1 } }),
      want: { targetPerReplica: 0.01 },
    },
    {
      name: 'panic window never narrower than a bucket: 10% of 2 s is 200 ms, bucket 1 s → 1 s',
      spec: spec({ scale: { window: '2s' } }),
      want: { stableWindowMs: 2000, panicWindowMs: 1000 },
    },
    {
      name: 'with 100 ms buckets a 2 s window gets its 200 ms panic window',
      spec: spec({ scale: { window: '2s' } }),
      cfg: { bucketMs: 100 },
      want: { stableWindowMs: 2000, panicWindowMs: 200 },
    },
    {
      name: 'the global config carries into every function (kfn dev windows of 1 s)',
      spec: spec(),
      cfg: { stableWindowMs: 1000, scaleToZeroGracePeriodMs: 500, bucketMs: 100, initialScale: 0, enableScaleToZero: false },
      want: { stableWindowMs: 1000, panicWindowMs: 100, scaleToZeroGracePeriodMs: 500, initial: 0, enableScaleToZero: false },
    },
    {
      name: 'values that would break the arithmetic fall back to the config',
      spec: spec({ scale: { window: 'soon', maxScaleDownRate: 0, maxScaleUpRate: Number.NaN, target: -3, min: -1, panicThreshold: 50 } }),
      want: { stableWindowMs: 60_000, maxScaleDownRate: 2, maxScaleUpRate: 1000, target: 100, min: 0, panicThreshold: 200 },
    },
    {
      name: 'an unknown metric (the validator refuses it) scales on concurrency',
      spec: spec({ scale: { metric: 'cpu' as 'rps' } }),
      want: { metric: 'concurrency', target: 100 },
    },
  ];

  for (const row of rows) {
    test(row.name, () => {
      const got = scalingParams(row.spec, row.cfg ? autoscalerConfig(row.cfg) : cfg);
      for (const [k, v] of Object.entries(row.want)) assert.equal(got[k as keyof ScalingParams], v, k);
    });
  }
});
