// One trigger's delivery loop: pull from its durable consumer, decode, filter, deliver,
// and settle each message: ack after a 2xx (and the reply), nak with the backoff delay,
// or dead-letter the original event and terminate. Nothing is acked before the function
// answered 2xx, and nothing ends otherwise: an event that cannot be handled for any reason
// (a throw inside the dispatcher included) is dead-lettered with its reason, or, with no
// dead-letter subject, counted as dropped and logged with its id. The consumer has no
// max_deliver (see consumerConfigFor): the attempt count here is the only limit, so
// JetStream never discards an event on its own.
import { ConsumerEvents, type ConsumerInfo, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg, type MsgHdrs, type NatsConnection } from 'nats';
import type { ResolvedDelivery } from '../../apis/trigger/defaults.js';
import type { KfnTrigger } from '../../apis/trigger/types.js';
import { sleep } from '../../shared/abort.js';
import { backoffDelay, type BackoffPolicy } from '../../shared/backoff.js';
import { KeyedQueue } from '../../shared/keyed-queue.js';
import type { Logger } from '../../shared/log.js';
import type { Event } from '../cloudevents/event.js';
import { matchesFilter } from '../cloudevents/filter.js';
import { fromNatsMessage, toNatsMessage, wrappedEventHeaders } from '../cloudevents/nats.js';
import { functionSource, replyEvent } from '../cloudevents/reply.js';
import { decideDelivery, type DeliveryOutcome } from '../policy/classify.js';
import { deadLetterHeaders, redriveAllows, REDRIVE_TRIGGER_HEADER, type DeadLetterInfo } from '../policy/deadletter.js';
import { orderingKeyOf } from '../policy/ordering.js';
import { consumerConfigFor, maxAckPendingFor } from '../jetstream/consumer.js';
import { isNotFound } from '../jetstream/stream.js';
import type { Outcome } from './counters.js';
import type { Deliverer, DeliveryResponse } from './deliver-http.js';
import { keepAlive } from './keepalive.js';
import { publishDurably, withHeaders } from './publish.js';
import { restartPosition } from './consumer-restart.js';
import { Slots } from './slots.js';

/**
 * Handings-out beyond the attempts after which an event is dead-lettered without being
 * read: if reading it is what kills the dispatcher (out of memory), it would otherwise
 * come back forever, now that the consumer has no max_deliver.
 */
const UNSETTLED_MARGIN = 3;

/** How fast a consume loop that ended (server gone, consumer deleted) is started again. */
const RESTART_BACKOFF: BackoffPolicy = { kind: 'exponential', baseMs: 250, maxMs: 10_000 };

export interface RunnerDeps {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  log: Logger;
  deliver: Deliverer;
  streamName: string;
  ackWaitMs: number;
  now(): number;
  count(outcome: Outcome): void;
  /** Acknowledges a settled message; batched with others (see AckBatch). */
  ack(msg: JsMsg): void;
}

export class TriggerRunner {
  private readonly slots: Slots;
  private readonly ordered: KeyedQueue;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly name: string;
  /** Stream sequences of the events being handled: where a lost consumer starts again. */
  private readonly unsettled = new Set<number>();
  private highestSeen: number | undefined;
  /** The consumer as last found, for its ack floor and creation time. */
  private lastConsumer: ConsumerInfo | undefined;

  constructor(
    private readonly deps: RunnerDeps,
    /** Defaulted. */
    readonly trigger: KfnTrigger,
    readonly delivery: ResolvedDelivery,
    readonly consumerName: string,
  ) {
    this.slots = new Slots(delivery.maxInFlight);
    this.ordered = new KeyedQueue((key, err) => deps.log.error({ err, orderingKey: key }, 'ordered delivery failed'));
    this.name = `${trigger.metadata.namespace ?? 'default'}/${trigger.metadata.name}`;
  }

  /**
   * Consumes until `consuming` aborts, restarting the consume loop (with backoff)
   * whenever it ends, then waits for deliveries in flight. `deliveries` aborting cuts
   * those short; their events are handed back to JetStream at once.
   */
  async run(consuming: AbortSignal, deliveries: AbortSignal): Promise<void> {
    let failures = 0;
    while (!consuming.aborted) {
      try {
        const consumer = await this.deps.js.consumers.get(this.deps.streamName, this.consumerName);
        this.lastConsumer = await consumer.info(true);
        // As many as the consumer may have unacknowledged: for an ordered trigger, more than
        // maxInFlight, so that events parked behind a busy key leave room for other keys.
        const messages = await consumer.consume({ max_messages: maxAckPendingFor(this.trigger.spec, this.delivery.maxInFlight) });
        const close = (): void => void messages.close();
        // nats.js keeps pulling from a deleted consumer for ever; end the loop, so the
        // consumer is found missing below and made again.
        void endWhenGone(messages, close);
        consuming.addEventListener('abort', close, { once: true });
        // Stopped while the consumer was being fetched: the listener came too late.
        if (consuming.aborted) close();
        try {
          for await (const msg of messages) {
            failures = 0;
            this.track(this.handle(msg, deliveries));
          }
        } finally {
          consuming.removeEventListener('abort', close);
        }
        if (!consuming.aborted) this.deps.log.warn('consume loop ended; restarting it');
      } catch (err) {
        if (!consuming.aborted && isNotFound(err)) await this.recreateConsumer();
        else if (!consuming.aborted) this.deps.log.warn({ err }, 'consume loop failed; restarting it');
      }
      failures++;
      await sleep(backoffDelay(RESTART_BACKOFF, failures), consuming);
    }
    await Promise.allSettled([...this.inFlight]);
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /**
   * The consumer disappeared while this Trigger ran (deleted by hand, or lost with the
   * server's store): make it again from the first event the Trigger has not settled (see
   * restartPosition), so nothing is skipped and its history is not handed out again.
   * Failing that (the stream is gone too), the next round tries again.
   */
  private async recreateConsumer(): Promise<void> {
    const { jsm, streamName, log } = this.deps;
    try {
      const stream = await jsm.streams.info(streamName);
      const old = this.lastConsumer;
      const position = restartPosition({
        unsettled: [...this.unsettled],
        ...(this.highestSeen !== undefined ? { highestSeen: this.highestSeen } : {}),
        ...(old ? { ackFloor: old.ack_floor.stream_seq } : {}),
        streamLastSeq: stream.state.last_seq,
        streamIsNewer: old !== undefined && Date.parse(stream.created) > Date.parse(old.created),
      });
      const config = consumerConfigFor(this.trigger, this.delivery, { ackWaitMs: this.deps.ackWaitMs });
      await jsm.consumers.add(streamName, { ...config, ...position });
      log.warn({ consumer: this.consumerName, stream: streamName, ...position }, 'the trigger\'s consumer was gone; made it again from its first unsettled event');
    } catch (err) {
      log.warn({ err, consumer: this.consumerName, stream: streamName }, 'the trigger\'s consumer is gone and could not be made again; retrying');
    }
  }

  /** Settles `msg` one way or another; never rejects. */
  private async handle(msg: JsMsg, signal: AbortSignal): Promise<void> {
    const stop = keepAlive(msg, this.deps.ackWaitMs);
    const seq = msg.info.streamSequence;
    // Until acked or terminated: an event handed back with a nak is still the Trigger's.
    this.unsettled.add(seq);
    if (this.highestSeen === undefined || seq > this.highestSeen) this.highestSeen = seq;
    try {
      await this.process(msg, signal);
    } catch (err) {
      // A bug, or an event that trips one (deeply nested data …): retried like a failed
      // delivery, then dead-lettered as `internal` rather than handed out until JetStream
      // gives up on it.
      await this.failed(msg, undefined, msg.info.deliveryCount, err, signal, false);
    } finally {
      stop();
    }
  }

  private async process(msg: JsMsg, signal: AbortSignal): Promise<void> {
    const handedOut = msg.info.deliveryCount;
    if (handedOut > this.attempts + UNSETTLED_MARGIN) {
      const lastError = `handed out ${handedOut} times and never settled; dead-lettered unread, in case reading it is what stops the dispatcher`;
      await this.deadLetter(msg, { reason: 'retries-exhausted', lastError, attempts: handedOut - 1 }, undefined, signal);
      return;
    }
    if (!redriveAllows(msg.headers, this.name)) {
      // Another trigger's dead letter, republished for it alone: this trigger had it already.
      this.ack(msg);
      this.deps.count('filtered');
      return;
    }
    let event: Event;
    try {
      event = fromNatsMessage({ subject: msg.subject, headers: msg.headers, data: msg.data, stream: msg.info.stream, seq: msg.seq });
    } catch (err) {
      // Retrying cannot fix a malformed event: straight to the dead letters.
      await this.deadLetter(msg, { reason: 'malformed', lastError: (err as Error).message, attempts: msg.info.deliveryCount }, undefined, signal);
      return;
    }
    if (!matchesFilter(event, this.trigger.spec.filter)) {
      this.ack(msg);
      this.deps.count('filtered');
      return;
    }
    if (handedOut > this.attempts) {
      // Its attempts are used up, yet it came back: the last one ended without an answer
      // (the dispatcher stopped mid-delivery, or lost the connection to NATS).
      const lastError = `handed out ${handedOut} times; the last attempt ended without an answer (dispatcher stopped or lost its connection)`;
      await this.deadLetter(msg, { reason: 'retries-exhausted', lastError, attempts: handedOut - 1 }, event, signal);
      return;
    }
    const key = orderingKeyOf(event, this.trigger.spec.orderingKey);
    if (key === undefined) await this.attempt(msg, event, signal, false);
    else await this.ordered.push(key, () => this.attempt(msg, event, signal, true));
  }

  /** Attempts in all: the first and its retries. */
  private get attempts(): number {
    return this.delivery.retries + 1;
  }

  /**
   * Delivers until the event is settled. Unordered events retry through JetStream (nak
   * with a delay). Ordered ones retry here, holding the message (kept alive), because a
   * nak would let the next event with the same key overtake it, and its redelivery
   * might reach another dispatcher replica. Never rejects: a throw is a failed attempt.
   */
  private async attempt(msg: JsMsg, event: Event, signal: AbortSignal, inPlace: boolean): Promise<void> {
    let attempt = msg.info.deliveryCount;
    for (;;) {
      let step: Step;
      try {
        step = await this.tryOnce(msg, event, attempt, signal);
      } catch (err) {
        await this.failed(msg, event, attempt, err, signal, inPlace);
        if (!inPlace || attempt >= this.attempts || signal.aborted) return;
        attempt++;
        continue;
      }
      if (step.kind === 'settled') return;
      if (step.kind === 'deadletter') {
        await this.deadLetter(msg, step.why, event, signal);
        return;
      }
      this.deps.count('retried');
      this.deps.log.info({ attempt, delayMs: step.delayMs, id: event.attributes.id, reason: step.reason }, 'delivery failed; retrying');
      if (!inPlace) {
        this.nak(msg, step.delayMs);
        return;
      }
      await sleep(step.delayMs, signal);
      if (signal.aborted) {
        this.nak(msg);
        return;
      }
      attempt++;
    }
  }

  /** One delivery and what follows from its answer. */
  private async tryOnce(msg: JsMsg, event: Event, attempt: number, signal: AbortSignal): Promise<Step> {
    const release = await this.slots.acquire();
    let response: DeliveryResponse;
    try {
      // Stopping: an event still parked behind its key goes back without a delivery.
      if (signal.aborted) {
        this.nak(msg);
        return { kind: 'settled' };
      }
      response = await this.deps.deliver({
        key: { namespace: this.trigger.metadata.namespace ?? 'default', name: this.trigger.spec.function },
        path: this.trigger.spec.path ?? '/',
        event,
        timeoutMs: this.delivery.timeoutMs,
        signal,
      });
    } finally {
      release();
    }
    if (signal.aborted) {
      this.nak(msg);
      return { kind: 'settled' };
    }
    const decision = decideDelivery({
      outcome: outcomeOf(response),
      attempt,
      retries: this.delivery.retries,
      backoff: this.delivery.backoff,
      ...(retryAfterOf(response) !== undefined ? { retryAfterHeader: retryAfterOf(response) } : {}),
      nowMs: this.deps.now(),
    });
    if (decision.action === 'ack') {
      const replyError = 'error' in response ? undefined : await this.publishReply(msg, event, response);
      if (replyError !== undefined) {
        // The function ran; only its reply is missing. Run it again, or give up as for any failure.
        if (attempt >= this.attempts) return { kind: 'deadletter', why: { reason: 'reply-failed', lastError: replyError, attempts: attempt } };
        return { kind: 'retry', delayMs: backoffDelay(this.delivery.backoff, attempt), reason: replyError };
      }
      this.ack(msg);
      this.deps.count('delivered');
      return { kind: 'settled' };
    }
    if (decision.action === 'deadletter') {
      return { kind: 'deadletter', why: { reason: decision.reason, status: decision.status, lastError: decision.lastError ?? failureOf(response), attempts: decision.attempts } };
    }
    return { kind: 'retry', delayMs: decision.delayMs, reason: failureOf(response) };
  }

  /**
   * A throw while handling attempt `attempt`: dead-letters the event as `internal` when it
   * was the last attempt, else counts a retry and, unless the caller retries in place,
   * hands it back with the backoff delay. Never rejects.
   */
  private async failed(msg: JsMsg, event: Event | undefined, attempt: number, err: unknown, signal: AbortSignal, inPlace: boolean): Promise<void> {
    const lastError = errorText(err);
    this.deps.log.error({ err, seq: msg.seq, id: event?.attributes.id, attempt }, 'handling an event failed inside the dispatcher');
    if (attempt >= this.attempts) {
      await this.deadLetter(msg, { reason: 'internal', lastError, attempts: attempt }, event, signal);
      return;
    }
    this.deps.count('retried');
    const delayMs = backoffDelay(this.delivery.backoff, attempt);
    if (!inPlace) {
      this.nak(msg, delayMs);
      return;
    }
    await sleep(delayMs, signal);
    if (signal.aborted) this.nak(msg);
  }

  /** Hands the event back to JetStream; if NATS is gone, JetStream redelivers it after the ack wait anyway. */
  private nak(msg: JsMsg, delayMs?: number): void {
    try {
      msg.nak(delayMs);
    } catch (err) {
      this.deps.log.warn({ err, seq: msg.seq }, 'could not hand an event back; JetStream redelivers it after the ack wait');
    }
  }

  /**
   * Publishes the response on reply.subject; returns why when that failed. A response
   * that cannot be read as an event is logged and dropped: running the function again
   * would not make it readable.
   */
  private async publishReply(
    msg: JsMsg,
    cause: Event,
    response: { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer },
  ): Promise<string | undefined> {
    const subject = this.trigger.spec.reply?.subject;
    if (!subject) return undefined;
    let reply: Event | undefined;
    try {
      reply = replyEvent(cause, response, functionSource(this.trigger.metadata.namespace ?? 'default', this.trigger.spec.function));
    } catch (err) {
      this.deps.log.error({ err, id: cause.attributes.id, subject }, 'the function answered 2xx with a malformed CloudEvent; no reply published');
      return undefined;
    }
    if (!reply) return undefined;
    try {
      const out = toNatsMessage(reply);
      // Keyed by the stream message, so the reply of a redelivered event is stored once.
      await publishDurably(this.deps.nc, this.deps.js, this.deps.jsm, subject, out.data, { headers: out.headers, msgID: `${this.consumerName}.${msg.seq}.reply` });
      return undefined;
    } catch (err) {
      this.deps.log.warn({ err, id: cause.attributes.id, subject }, 'publishing the reply failed; retrying the event');
      return `publishing the reply to ${subject}: ${(err as Error).message}`;
    }
  }

  /**
   * Publishes the original message, untouched but for the dead-letter headers, then
   * terminates it. The publish is retried until it succeeds: the event has used its
   * deliveries, so dropping it here would lose it. With no dead-letter subject the event
   * is terminated and counted as dropped, and logged with its id. Never rejects.
   */
  private async deadLetter(
    msg: JsMsg,
    why: Omit<DeadLetterInfo, 'trigger' | 'function' | 'subject'>,
    event: Event | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const subject = this.delivery.deadLetterSubject;
    const info: DeadLetterInfo = { ...why, trigger: this.name, function: this.trigger.spec.function, subject: msg.subject };
    const eventId = event?.attributes.id ?? idOfMessage(msg);
    if (!subject) {
      this.drop(msg, { ...info, id: eventId }, 'event failed for good and the trigger has no deadLetterSubject; dropping it');
      return;
    }
    let headers: MsgHdrs;
    try {
      // A wrapped plain message gets its attributes as ce- headers: its id names where the
      // original is stored, which the dead letter (and a redrive of it) is not.
      headers = withHeaders(msg.headers, { ...(event ? wrappedEventHeaders(msg, event) : {}), ...deadLetterHeaders(info) });
      // A failed redrive is a dead letter like any other; left on, the mark would make a
      // trigger that consumes the dead-letter subject skip it.
      headers.delete(REDRIVE_TRIGGER_HEADER);
    } catch (err) {
      // Not even the headers could be made (a bug): nothing to publish, so count it.
      this.drop(msg, { ...info, id: eventId, err }, 'the dead letter could not be made; dropping the event');
      return;
    }
    for (let failures = 1; ; failures++) {
      try {
        await publishDurably(this.deps.nc, this.deps.js, this.deps.jsm, subject, msg.data, { headers, msgID: `${this.consumerName}.${msg.seq}.deadletter` });
        break;
      } catch (err) {
        this.deps.log.warn({ err, subject }, 'publishing a dead letter failed; trying again');
        await sleep(backoffDelay(RESTART_BACKOFF, failures), signal);
        if (signal.aborted) {
          this.nak(msg);
          return;
        }
      }
    }
    this.deps.log.warn({ seq: msg.seq, id: eventId, ...info, deadLetterSubject: subject }, 'event dead-lettered');
    this.term(msg);
    this.deps.count('deadLettered');
  }

  private drop(msg: JsMsg, fields: Record<string, unknown>, message: string): void {
    this.deps.log.error({ seq: msg.seq, ...fields }, message);
    this.term(msg);
    this.deps.count('dropped');
  }

  private ack(msg: JsMsg): void {
    this.unsettled.delete(msg.info.streamSequence);
    this.deps.ack(msg);
  }

  private term(msg: JsMsg): void {
    this.unsettled.delete(msg.info.streamSequence);
    try {
      msg.term();
    } catch (err) {
      // Redelivered after the ack wait, and settled again then: the dead letter's
      // Nats-Msg-Id keeps it stored once.
      this.deps.log.warn({ err, seq: msg.seq }, 'could not terminate an event; JetStream redelivers it after the ack wait');
    }
  }
}

type Step =
  | { kind: 'settled' }
  | { kind: 'retry'; delayMs: number; reason: string }
  | { kind: 'deadletter'; why: Omit<DeadLetterInfo, 'trigger' | 'function' | 'subject'> };

/** The id to log for a message that could not be read as an event. */
function idOfMessage(msg: JsMsg): string | undefined {
  return msg.headers?.get('ce-id') || msg.headers?.get('Nats-Msg-Id') || undefined;
}

/** Calls `close` once nats.js reports the consumer deleted or not found. */
async function endWhenGone(messages: ConsumerMessages, close: () => void): Promise<void> {
  for await (const s of await messages.status()) {
    if (s.type === ConsumerEvents.ConsumerDeleted || s.type === ConsumerEvents.ConsumerNotFound) {
      close();
      return;
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function outcomeOf(response: DeliveryResponse): DeliveryOutcome {
  return 'error' in response ? { error: response.error } : { status: response.status };
}

function retryAfterOf(response: DeliveryResponse): string | undefined {
  if ('error' in response) return undefined;
  const v = response.headers['retry-after'];
  return Array.isArray(v) ? v[0] : v;
}

function failureOf(response: DeliveryResponse): string {
  if ('error' in response) return response.error;
  const text = response.body.subarray(0, 200).toString('utf8').trim();
  return `function answered ${response.status}${text ? `: ${text}` : ''}`;
}
