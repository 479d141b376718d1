// Local mode's Trigger controller: keeps the dispatcher in step with the Trigger and
// Function stores and writes each Trigger's status. A trigger whose function is missing
// keeps its consumer, so events wait in the stream until the function is back.
import type { JetStreamManager } from 'nats';
import { keyOf, type FunctionKey } from '../apis/meta.js';
import type { KfnTrigger, TriggerStatus } from '../apis/trigger/types.js';
import type { KfnFunction } from '../apis/function/types.js';
import { markConsumerNotReady, markConsumerReady, markFunctionFound, markFunctionNotFound } from '../apis/trigger/lifecycle.js';
import type { TriggerState } from '../events/dispatcher/dispatcher.js';
import { resolvedDelivery } from '../apis/trigger/defaults.js';
import { consumerConfigFor, consumerNameFor, ensureConsumer, removeConsumer } from '../events/jetstream/consumer.js';
import { ensureStream } from '../events/jetstream/stream.js';
import { KeyedQueue } from '../shared/keyed-queue.js';
import type { Logger } from '../shared/log.js';
import { keyOfResource, type FunctionStore, type StoreEvent, type TriggerStore } from './store.js';

/** The dispatcher as this controller uses it. */
export interface TriggerDispatcher {
  upsertTrigger(trigger: KfnTrigger, fn?: KfnFunction): Promise<TriggerState>;
  /** Stops delivering and deletes the consumer. */
  removeTrigger(key: FunctionKey): Promise<void>;
  /** Stops delivering but keeps the consumer: its events wait. Returns the last state. */
  forgetTrigger(key: FunctionKey): Promise<TriggerState | undefined>;
  status(key: FunctionKey): TriggerState | undefined;
}

export type EventBus =
  | { ok: true; jsm: JetStreamManager; dispatcher: TriggerDispatcher }
  | { ok: false; reason: string; message: string };

export interface DevTriggerControllerDeps {
  functions: FunctionStore;
  triggers: TriggerStore;
  bus: EventBus;
  /** The stream triggers without spec.stream use. */
  streamName: string;
  duplicateWindowMs: number;
  log: Logger;
  now?: () => Date;
}

export class DevTriggerController {
  private readonly queue: KeyedQueue;
  private readonly unsubscribe: Array<() => void> = [];
  /** Subjects each stream must hold: every trigger's subject, reply and dead-letter subjects. */
  private readonly subjects = new Map<string, Set<string>>();
  private stopped = false;
  /**
   * Counts of earlier runs of a trigger's loop: the dispatcher starts from zero when a
   * trigger it let go (its function was deleted) comes back, and status must not.
   */
  private readonly carried = new Map<string, Counts>();

  constructor(private readonly deps: DevTriggerControllerDeps) {
    this.queue = new KeyedQueue((key, err) => deps.log.error({ trigger: key, err }, 'trigger reconcile failed'));
  }

  start(): void {
    const { functions, triggers } = this.deps;
    this.unsubscribe.push(
      triggers.watch((e) => this.onTrigger(e)),
      functions.watch((e) => this.onFunction(e)),
    );
    for (const t of triggers.list()) this.onTrigger({ type: 'applied', obj: t });
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /** Resolves when every reconcile queued so far has finished. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Copies the dispatcher's counters into each trigger's status; called every second or so. */
  refreshCounts(): void {
    const { bus, triggers } = this.deps;
    if (!bus.ok) return;
    for (const t of triggers.list()) {
      const key = keyOfResource(t);
      const state = bus.dispatcher.status(key);
      if (!state) continue;
      triggers.updateStatus(key, { ...t.status, ...this.countsOf(key, state) });
    }
  }

  private countsOf(key: FunctionKey, state: TriggerState): Counts {
    const before = this.carried.get(keyOf(key));
    const { delivered, retried, deadLettered, dropped } = state.counters;
    if (!before) return { delivered, retried, deadLettered, dropped };
    return {
      delivered: before.delivered + delivered,
      retried: before.retried + retried,
      deadLettered: before.deadLettered + deadLettered,
      dropped: before.dropped + dropped,
    };
  }

  private onTrigger(e: StoreEvent<KfnTrigger>): void {
    if (e.type === 'status') return;
    const key = keyOfResource(e.obj);
    if (e.type === 'deleted') void this.queue.push(keyOf(key), () => this.remove(e.obj));
    else void this.queue.push(keyOf(key), () => this.reconcile(key));
  }

  /** A function appearing, changing or going changes its triggers. */
  private onFunction(e: StoreEvent<KfnFunction>): void {
    if (e.type === 'status') return;
    const fnKey = keyOfResource(e.obj);
    for (const t of this.deps.triggers.list()) {
      const key = keyOfResource(t);
      if (key.namespace === fnKey.namespace && t.spec.function === fnKey.name) {
        void this.queue.push(keyOf(key), () => this.reconcile(key));
      }
    }
  }

  private async reconcile(key: FunctionKey): Promise<void> {
    const { triggers, functions, bus } = this.deps;
    const trigger = triggers.get(key);
    if (!trigger || this.stopped) return;
    const log = this.deps.log.child({ trigger: keyOf(key) });
    const now = (this.deps.now ?? (() => new Date()))();
    let status: TriggerStatus = { ...trigger.status, observedGeneration: trigger.metadata.generation ?? 0 };
    const fn = functions.get({ namespace: key.namespace, name: trigger.spec.function });
    status = fn
      ? markFunctionFound(status, now)
      : markFunctionNotFound(status, `no Function ${key.namespace}/${trigger.spec.function}; events wait in the stream until it exists`, now);

    if (!bus.ok) {
      status = markConsumerNotReady(status, bus.reason, bus.message, now);
    } else {
      try {
        const stream = trigger.spec.stream ?? this.deps.streamName;
        await ensureStream(bus.jsm, { name: stream, subjects: this.subjectsFor(stream, trigger), duplicateWindowMs: this.deps.duplicateWindowMs });
        if (fn) {
          const state = await bus.dispatcher.upsertTrigger(trigger, fn);
          status = markConsumerReady({ ...status, ...this.countsOf(key, state) }, state.consumer, now);
        } else {
          // Nobody to deliver to: keep the consumer, so its events wait for the function.
          // Its deliveries in flight have finished (and counted) when this returns.
          const last = await bus.dispatcher.forgetTrigger(key);
          if (last) this.carried.set(keyOf(key), this.countsOf(key, last));
          const config = consumerConfigFor(trigger, resolvedDelivery(trigger));
          await ensureConsumer(bus.jsm, stream, config);
          status = markConsumerReady(status, consumerNameFor(trigger), now);
        }
      } catch (err) {
        log.error({ err }, 'cannot set up the trigger in JetStream');
        status = markConsumerNotReady(status, 'JetStreamError', describeError(err), now);
        // Try again: NATS may be reconnecting.
        setTimeout(() => this.onTrigger({ type: 'applied', obj: trigger }), 2000).unref();
      }
    }
    triggers.updateStatus(key, status);
  }

  private async remove(trigger: KfnTrigger): Promise<void> {
    const { bus } = this.deps;
    if (!bus.ok) return;
    this.carried.delete(keyOf(keyOfResource(trigger)));
    await bus.dispatcher.removeTrigger(keyOfResource(trigger));
    // Also when the dispatcher was not running it (its function was missing).
    await removeConsumer(bus.jsm, trigger.spec.stream ?? this.deps.streamName, consumerNameFor(trigger));
  }

  private subjectsFor(stream: string, t: KfnTrigger): string[] {
    let set = this.subjects.get(stream);
    if (!set) this.subjects.set(stream, (set = new Set()));
    set.add(t.spec.subject);
    if (t.spec.reply?.subject) set.add(t.spec.reply.subject);
    if (t.spec.delivery?.deadLetterSubject) set.add(t.spec.delivery.deadLetterSubject);
    return [...set];
  }
}

type Counts = Required<Pick<TriggerStatus, 'delivered' | 'retried' | 'deadLettered' | 'dropped'>>;

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
