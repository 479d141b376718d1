// The dispatcher: one durable JetStream consumer and one delivery loop per Trigger.
// Triggers come and go through upsertTrigger/removeTrigger (from the controller, or
// `kfn dev`); run() keeps every loop going until its signal aborts.
import type { Counter, Registry } from 'prom-client';
import type { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import type { KfnFunction } from '../../apis/function/types.js';
import { resolvedDelivery, withTriggerDefaults, type ResolvedDelivery } from '../../apis/trigger/defaults.js';
import type { KfnTrigger } from '../../apis/trigger/types.js';
import { sleep } from '../../shared/abort.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import { DEFAULT_ACK_WAIT_MS, consumerConfigFor, consumerNameFor, ensureConsumer, removeConsumer } from '../jetstream/consumer.js';
import { AckBatch } from './ack-batch.js';
import { eventsCounter, type Outcome } from './counters.js';
// The counts are the stats bucket's contract with the controller.
import { emptyCounters, type TriggerCounters, type TriggerKey } from '../jetstream/trigger-stats.js';
import type { Deliverer } from './deliver-http.js';
import { TriggerRunner } from './trigger-runner.js';

/**
 * How long deliveries in flight get to finish at shutdown. Well inside a pod's default
 * 30 s grace period, with the ingress, the last counts and NATS's drain still to come;
 * kfn dev's shutdown bound (10 s) holds with it.
 */
export const DEFAULT_DRAIN_MS = 5000;

export interface DispatcherDeps {
  nc: NatsConnection;
  log: Logger;
  /** Hands an event to a function; `httpDeliverer(activatorUrl)` in production. */
  deliver: Deliverer;
  /** The stream triggers without `spec.stream` consume from. */
  streamName: string;
  clock?: Clock;
  /** JetStream's redelivery timer; in-progress acks every third of it keep long deliveries alive. */
  ackWaitMs?: number;
  /** At shutdown, how long deliveries in flight get to finish before they are cut short (default DEFAULT_DRAIN_MS). */
  drainMs?: number;
  registry?: Registry;
}


export interface TriggerState {
  consumer: string;
  stream: string;
  counters: TriggerCounters;
  /** When the last 2xx delivery finished, by the dispatcher's clock. */
  lastDeliveredAt?: number;
}

interface Entry {
  runner: TriggerRunner;
  fingerprint: string;
  state: TriggerState;
  stop?: AbortController;
  done?: Promise<void>;
}

export class Dispatcher {
  private readonly js: JetStreamClient;
  private jsm?: JetStreamManager;
  private readonly entries = new Map<string, Entry>();
  /** Loops of replaced or removed triggers still finishing their deliveries. */
  private readonly retiring = new Set<Promise<void>>();
  private readonly clock: Clock;
  private readonly ackWaitMs: number;
  private readonly drainMs: number;
  private readonly metric?: Counter<'namespace' | 'trigger' | 'outcome'>;
  private running?: { consuming: AbortSignal; deliveries: AbortSignal };
  private readonly acks = new AckBatch();

  constructor(private readonly deps: DispatcherDeps) {
    this.js = deps.nc.jetstream();
    this.clock = deps.clock ?? systemClock;
    this.ackWaitMs = deps.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
    this.drainMs = deps.drainMs ?? DEFAULT_DRAIN_MS;
    if (deps.registry) this.metric = eventsCounter(deps.registry);
  }

  /**
   * Creates or updates the trigger's consumer and (re)starts its loop when anything that
   * shapes delivery changed. `fn` is the target function, for delivery defaults. Throws
   * when JetStream refuses the consumer (for example, no stream holds the subject).
   */
  async upsertTrigger(trigger: KfnTrigger, fn?: KfnFunction): Promise<TriggerState> {
    const t = withTriggerDefaults(trigger, fn);
    const delivery = resolvedDelivery(trigger, fn);
    const key = keyOfTrigger(t);
    const stream = t.spec.stream ?? this.deps.streamName;
    const fingerprint = JSON.stringify({ spec: t.spec, delivery, stream });
    const existing = this.entries.get(key);
    if (existing?.fingerprint === fingerprint) return existing.state;

    const config = consumerConfigFor(t, delivery, { ackWaitMs: this.ackWaitMs });
    await ensureConsumer(await this.manager(), stream, config);
    const consumer = consumerNameFor(t);
    const state: TriggerState = existing?.state ?? { consumer, stream, counters: emptyCounters() };
    state.consumer = consumer;
    state.stream = stream;
    const runner = this.newRunner(t, delivery, stream, consumer, state, await this.manager());
    // The old loop stops taking new events; its deliveries in flight finish normally.
    if (existing) void this.retire(existing);
    const entry: Entry = { runner, fingerprint, state };
    this.entries.set(key, entry);
    this.start(entry);
    this.deps.log.info({ trigger: key, consumer, stream, subject: t.spec.subject, maxInFlight: delivery.maxInFlight }, 'trigger ready');
    return state;
  }

  /** Stops the trigger's loop, waits for its deliveries in flight, deletes its consumer. */
  async removeTrigger(key: TriggerKey): Promise<void> {
    const state = await this.forgetTrigger(key);
    if (!state) return;
    await removeConsumer(await this.manager(), state.stream, state.consumer);
    this.deps.log.info({ trigger: `${key.namespace}/${key.name}` }, 'trigger removed');
  }

  /**
   * Stops the trigger's loop and waits for its deliveries in flight, leaving its consumer
   * in JetStream: on a cluster the controller owns consumers and deletes them (behind the
   * Trigger's finalizer), and events that arrive meanwhile wait there. Returns the
   * trigger's last state, or undefined when it was not known.
   */
  async forgetTrigger(key: TriggerKey): Promise<TriggerState | undefined> {
    const k = `${key.namespace}/${key.name}`;
    const entry = this.entries.get(k);
    if (!entry) return undefined;
    this.entries.delete(k);
    await this.retire(entry);
    this.deps.log.info({ trigger: k }, 'trigger stopped');
    return entry.state;
  }

  /**
   * Runs every trigger's loop until `signal` aborts. Then no event is taken any more, and
   * deliveries in flight get drainMs to finish: one cut short still counts as an attempt
   * (JetStream counts handings-out), so a restart would otherwise spend it. What is still
   * running then is cut short and handed back to JetStream.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error('dispatcher: run() called twice');
    const deliveries = new AbortController();
    this.running = { consuming: signal, deliveries: deliveries.signal };
    for (const entry of this.entries.values()) this.start(entry);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    const finished = Promise.allSettled([...[...this.entries.values()].map((e) => e.done), ...this.retiring]);
    const drained = new AbortController();
    await Promise.race([finished, sleep(this.drainMs, drained.signal)]);
    drained.abort();
    deliveries.abort();
    await finished;
    this.acks.flush();
  }

  /** The triggers this dispatcher delivers for. */
  triggers(): TriggerKey[] {
    return [...this.entries.keys()].map((k) => {
      const slash = k.indexOf('/');
      return { namespace: k.slice(0, slash), name: k.slice(slash + 1) };
    });
  }

  /** Counters and consumer of one trigger, for its status. */
  status(key: TriggerKey): TriggerState | undefined {
    const s = this.entries.get(`${key.namespace}/${key.name}`)?.state;
    return s && { ...s, counters: { ...s.counters } };
  }

  private retire(entry: Entry): Promise<void> {
    entry.stop?.abort();
    const done = entry.done ?? Promise.resolve();
    this.retiring.add(done);
    void done.finally(() => this.retiring.delete(done));
    return done;
  }

  private start(entry: Entry): void {
    if (!this.running || entry.done) return;
    const stop = new AbortController();
    const consuming = AbortSignal.any([this.running.consuming, stop.signal]);
    entry.stop = stop;
    entry.done = entry.runner.run(consuming, this.running.deliveries).catch((err: unknown) => {
      this.deps.log.error({ err, consumer: entry.state.consumer }, 'trigger loop failed');
    });
  }

  private newRunner(t: KfnTrigger, delivery: ResolvedDelivery, stream: string, consumer: string, state: TriggerState, jsm: JetStreamManager): TriggerRunner {
    const ns = t.metadata.namespace ?? 'default';
    const log = this.deps.log.child({ trigger: `${ns}/${t.metadata.name}`, fn: `${ns}/${t.spec.function}` });
    return new TriggerRunner(
      {
        nc: this.deps.nc,
        js: this.js,
        jsm,
        log,
        deliver: this.deps.deliver,
        streamName: stream,
        ackWaitMs: this.ackWaitMs,
        now: () => this.clock.now(),
        ack: (msg) => this.acks.ack(msg),
        count: (outcome: Outcome) => {
          state.counters[outcome]++;
          if (outcome === 'delivered') state.lastDeliveredAt = this.clock.now();
          this.metric?.inc({ namespace: ns, trigger: t.metadata.name, outcome });
        },
      },
      t,
      delivery,
      consumer,
    );
  }

  private async manager(): Promise<JetStreamManager> {
    this.jsm ??= await this.deps.nc.jetstreamManager();
    return this.jsm;
  }
}

function keyOfTrigger(t: KfnTrigger): string {
  return `${t.metadata.namespace ?? 'default'}/${t.metadata.name}`;
}
