// The Trigger resource (kfn.dev/v1alpha1): binds a NATS subject (and optional
// CloudEvents attribute filters) to a function. The dispatcher turns each Trigger into
// one durable JetStream consumer and delivers matching events as CloudEvents over HTTP.
import type { ObjectMeta } from '../meta.js';
import type { Infer } from '../schema.js';
import type { triggerSpecSchema, triggerStatusSchema } from './schema.js';

export const TRIGGER_KIND = 'Trigger';
export const TRIGGER_PLURAL = 'triggers';

// Inferred from the one definition in schema.ts (the CRD is generated from it too), so a
// field exists here exactly when the API server accepts it. Descriptions live there.
export type TriggerSpec = Infer<typeof triggerSpecSchema>;
/** Matches a CloudEvents attribute (or extension) by exact value, prefix or suffix. */
export type AttributeFilter = NonNullable<TriggerSpec['filter']>;
export type DeliverySpec = NonNullable<TriggerSpec['delivery']>;
export type BackoffSpec = NonNullable<DeliverySpec['backoff']>;
export type TriggerStatus = Infer<typeof triggerStatusSchema>;

export interface KfnTrigger {
  apiVersion: string;
  kind: typeof TRIGGER_KIND;
  metadata: ObjectMeta;
  spec: TriggerSpec;
  status?: TriggerStatus;
}
