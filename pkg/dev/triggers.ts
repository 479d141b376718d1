// Local mode's Trigger controller: keeps the dispatcher in step with the Trigger and
// Function stores and writes each Trigger's status. A trigger whose function is missing
// keeps its consumer, so events wait in the stream until the function is back.
import type { JetStreamManager } from 'nats';
import { keyOf, type FunctionKey } from '../apis/meta.js';
import type { KfnTrigger, TriggerStatus } from '../apis/trigger/types.js';
import { REASON_NATS_UNAVAILABLE, triggerStatus, type ConsumerFact } from '../apis/trigger/status.js';
import type { KfnFunction } from '../apis/function/types.js';
import type { TriggerState } from '../events/dispatcher/dispatcher.js';
import { resolvedDelivery } from '../apis/trigger/defaults.js';
import { consumerConfigFor, consumerNameFor, ensureConsumer, removeConsumer } from '../events/jetstream/consumer.js';
import { ensureStream } from '../events/jetstream/stream.js';
import { subjectsOfStream } from '../reconciler/trigger/names.js';
import { KeyedQueue } from '../shared/keyed-queue.js';
import { describeError } from '../shared/describe-error.js';
import type { Logger } from '../shared/log.js';
import type { NatsProblem } from './nats-health.js';
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
  /** Whether NATS can be reached now (see nats-health.ts); absent = always assumed. */
  nats?: NatsStatus;
  log: Logger;
  now?: () => Date;
}

/** NATS's reachability as the controller reads it: while it is down every trigger says why. */
export interface NatsStatus {
  current(): NatsProblem | undefined;
  onChange(listener: (p: NatsProblem | undefined) => void): () => void;
}

export class DevTriggerController {
  private readonly queue: KeyedQueue;
  private readonly unsubscribe: Array<() => void> = [];
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
    // Down: every trigger says so. Back: every trigger is set up again (a server that
    // came back without its store needs its stream recreated).
    if (this.deps.nats) this.unsubscribe.push(this.deps.nats.onChange(() => this.reconcileAll()));
    for (const t of triggers.list()) this.onTrigger({ type: 'applied', obj: t });
    // Also with no trigger on it: a default stream an older kfn damaged is repaired now.
    void this.queue.push(`stream:${this.deps.streamName}`, () => this.syncStream(this.deps.streamName));
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

  private reconcileAll(): void {
    for (const t of this.deps.triggers.list()) {
      const key = keyOfResource(t);
      void this.queue.push(keyOf(key), () => this.reconcile(key));
    }
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
    const fn = functions.get({ namespace: key.namespace, name: trigger.spec.function });
    let consumer: ConsumerFact;
    let counts: Counts | undefined;

    const natsDown = this.deps.nats?.current();
    if (!bus.ok) {
      consumer = { state: 'failed', reason: bus.reason, message: bus.message };
    } else if (natsDown) {
      consumer = { state: 'failed', reason: natsDown.reason, message: natsDown.message };
    } else {
      try {
        const stream = trigger.spec.stream ?? this.deps.streamName;
        await this.ensureStream(bus.jsm, stream, trigger);
        if (fn) {
          const state = await bus.dispatcher.upsertTrigger(trigger, fn);
          counts = this.countsOf(key, state);
          consumer = { state: 'ready', name: state.consumer };
        } else {
          // Nobody to deliver to: keep the consumer, so its events wait for the function.
          // Its deliveries in flight have finished (and counted) when this returns.
          const last = await bus.dispatcher.forgetTrigger(key);
          if (last) this.carried.set(keyOf(key), this.countsOf(key, last));
          const config = consumerConfigFor(trigger, resolvedDelivery(trigger));
          await ensureConsumer(bus.jsm, stream, config);
          consumer = { state: 'ready', name: consumerNameFor(trigger) };
        }
      } catch (err) {
        log.error({ err }, 'cannot set up the trigger in JetStream');
        consumer = { state: 'failed', reason: REASON_NATS_UNAVAILABLE, message: describeError(err) };
        // Try again; if NATS went down meanwhile, its return reconciles every trigger.
        if (!this.deps.nats?.current()) setTimeout(() => this.onTrigger({ type: 'applied', obj: trigger }), 2000).unref();
      }
    }
    // NATS may have gone while JetStream answered: its being down is the news, not a stale Ready.
    const downNow = bus.ok ? this.deps.nats?.current() : undefined;
    if (downNow) consumer = { state: 'failed', reason: downNow.reason, message: downNow.message };
    triggers.updateStatus(key, triggerStatus(trigger, { functionFound: fn !== undefined, consumer, ...(counts ? { counts } : {}) }, now));
  }

  private async remove(trigger: KfnTrigger): Promise<void> {
    const { bus } = this.deps;
    if (!bus.ok) return;
    this.carried.delete(keyOf(keyOfResource(trigger)));
    await bus.dispatcher.removeTrigger(keyOfResource(trigger));
    // Also when the dispatcher was not running it (its function was missing).
    const stream = trigger.spec.stream ?? this.deps.streamName;
    await removeConsumer(bus.jsm, stream, consumerNameFor(trigger));
    await this.ensureStream(bus.jsm, stream);
  }

  private async syncStream(stream: string): Promise<void> {
    const { bus } = this.deps;
    if (!bus.ok || this.stopped) return;
    await this.ensureStream(bus.jsm, stream);
  }

  /** The stream holds the subjects of its triggers and `t`'s; the default stream is kfn's own (see ensureStream). */
  private async ensureStream(jsm: JetStreamManager, stream: string, t?: KfnTrigger): Promise<void> {
    await ensureStream(jsm, { name: stream, subjects: this.subjectsFor(stream, t), duplicateWindowMs: this.deps.duplicateWindowMs, owned: stream === this.deps.streamName });
  }

  /**
   * Every subject `stream` must hold: those of each trigger in the store on it, plus `t`'s
   * (the one being reconciled, or none when one was removed). Computed afresh each time,
   * so subjects no trigger needs any more leave the stream (their stored events stay
   * until the stream's limits, consumed by nobody), and a stream an older kfn left
   * holding '>' is repaired by the first reconcile on it.
   */
  private subjectsFor(stream: string, t?: KfnTrigger): string[] {
    const others = this.deps.triggers.list().filter((o) => !t || keyOf(keyOfResource(o)) !== keyOf(keyOfResource(t)));
    return subjectsOfStream(stream, t ? [...others, t] : others, this.deps.streamName);
  }
}

type Counts = Required<Pick<TriggerStatus, 'delivered' | 'retried' | 'deadLettered' | 'dropped'>>;
