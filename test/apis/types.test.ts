// The resource types are inferred from the schemas the CRDs are generated from
// (pkg/apis/schema.ts Infer). These assertions are checked by the compiler: a change to
// Infer or to a schema that gives a field the wrong type fails `npm run typecheck`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Condition } from '../../pkg/apis/meta.js';
import type { Affinity, FunctionSpec, FunctionStatus, Probe, ScaleSpec, Toleration, Volume } from '../../pkg/apis/function/types.js';
import type { TriggerSpec, TriggerStatus } from '../../pkg/apis/trigger/types.js';
import type { functionSpecSchema, functionStatusSchema } from '../../pkg/apis/function/schema.js';
import type { triggerSpecSchema, triggerStatusSchema } from '../../pkg/apis/trigger/schema.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
const holds = <T extends true>(): T | undefined => undefined;
type Item<T> = NonNullable<T> extends (infer I)[] ? I : never;

describe('types inferred from the schemas', () => {
  it('type required, optional, enum, list, map and pass-through fields as the schema says', () => {
    holds<Equal<keyof FunctionSpec, keyof typeof functionSpecSchema.properties>>();
    holds<Equal<keyof FunctionStatus, keyof typeof functionStatusSchema.properties>>();
    holds<Equal<keyof TriggerSpec, keyof typeof triggerSpecSchema.properties>>();
    holds<Equal<keyof TriggerStatus, keyof typeof triggerStatusSchema.properties>>();
    holds<Equal<FunctionSpec['image'], string>>();
    holds<Equal<ScaleSpec['min'], number | undefined>>();
    holds<Equal<ScaleSpec['window'], string | undefined>>();
    holds<Equal<FunctionSpec['command'], string[] | undefined>>();
    holds<Equal<FunctionSpec['nodeSelector'], Record<string, string> | undefined>>();
    holds<Equal<Toleration['operator'], 'Exists' | 'Equal' | undefined>>();
    holds<Equal<NonNullable<Volume['emptyDir']>['medium'], '' | 'Memory' | undefined>>();
    holds<Equal<Affinity['nodeAffinity'], Record<string, unknown> | undefined>>();
    holds<Equal<NonNullable<Probe['httpGet']>['port'], number | undefined>>();
    holds<Equal<TriggerSpec['subject'], string>>();
    holds<Equal<TriggerSpec['function'], string>>();
    holds<Equal<NonNullable<NonNullable<TriggerSpec['delivery']>['backoff']>['policy'], 'exponential' | 'linear' | undefined>>();
    // The status conditions are meta.ts's Condition, which the lifecycle helpers write.
    holds<Equal<Item<FunctionStatus['conditions']>, Condition>>();
    holds<Equal<Item<TriggerStatus['conditions']>, Condition>>();
    // @ts-expect-error a spec without its required image is not a FunctionSpec
    const noImage: FunctionSpec = { port: 8080 };
    // @ts-expect-error a field the schema does not have is not part of the type
    const unknownField: FunctionSpec = { image: 'x', replicas: 2 };
    assert.ok(noImage && unknownField);
  });
});
