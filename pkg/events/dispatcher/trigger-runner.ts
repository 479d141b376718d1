// One trigger's delivery loop: pull from its durable consumer, decode, filter, deliver,
// and settle each message: ack after a 2xx (and the reply), nak with the backoff delay,
// or dead-letter the original event and terminate. Nothing is acked before the function
// answered 2xx.
import type { JetStreamClient, JetStreamManager, JsMsg, NatsConnection } from 'nats';
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
import type { Outcome } from './counters.js';
import type { Deliverer, DeliveryResponse } from './deliver-http.js';
import { keepAlive } from './keepalive.js';
import { publishDurably, withHeaders } from './publish.js';
import { Slots } from './slots.js';

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
        const messages = await consumer.consume({ max_messages: this.delivery.maxInFlight });
        const close = (): void => void messages.close();
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
        if (!consuming.aborted) this.deps.log.warn({ err }, 'consume loop failed; restarting it');
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

  private async handle(msg: JsMsg, signal: AbortSignal): Promise<void> {
    const stop = keepAlive(msg, this.deps.ackWaitMs);
    try {
      if (!redriveAllows(msg.headers, this.name)) {
        // Another trigger's dead letter, republished for it alone: this trigger had it already.
        this.deps.ack(msg);
        this.deps.count('filtered');
        return;
      }
      let event: Event;
      try {
        event = fromNatsMessage({ subject: msg.subject, headers: msg.headers, data: msg.data, stream: msg.info.stream, seq: msg.seq });
      } catch (err) {
        // Retrying cannot fix a malformed event: straight to the dead letters.
        await this.deadLetter(msg, { reason: 'malformed', lastError: (err as Error).message, attempts: msg.info.deliveryCount }, signal);
        return;
      }
      if (!matchesFilter(event, this.trigger.spec.filter)) {
        this.deps.ack(msg);
        this.deps.count('filtered');
        return;
      }
      const key = orderingKeyOf(event, this.trigger.spec.orderingKey);
      if (key === undefined) await this.attempt(msg, event, signal, false);
      else await this.ordered.push(key, () => this.attempt(msg, event, signal, true));
    } catch (err) {
      this.deps.log.error({ err, seq: msg.seq }, 'handling an event failed; it will be redelivered');
      msg.nak(backoffDelay(this.delivery.backoff, msg.info.deliveryCount));
    } finally {
      stop();
    }
  }

  /**
   * Delivers until the event is settled. Unordered events retry through JetStream (nak
   * with a delay). Ordered ones retry here, holding the message (kept alive), because a
   * nak would let the next event with the same key overtake it, and its redelivery
   * might reach another dispatcher replica.
   */
  private async attempt(msg: JsMsg, event: Event, signal: AbortSignal, inPlace: boolean): Promise<void> {
    let attempt = msg.info.deliveryCount;
    for (;;) {
      const release = await this.slots.acquire();
      let response: DeliveryResponse;
      try {
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
        msg.nak();
        return;
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
          if (attempt >= this.delivery.retries + 1) {
            await this.deadLetter(msg, { reason: 'reply-failed', lastError: replyError, attempts: attempt }, signal, event);
            return;
          }
          this.deps.count('retried');
          msg.nak(backoffDelay(this.delivery.backoff, attempt));
          return;
        }
        this.deps.ack(msg);
        this.deps.count('delivered');
        return;
      }
      if (decision.action === 'deadletter') {
        await this.deadLetter(msg, { reason: decision.reason, status: decision.status, lastError: decision.lastError ?? failureOf(response), attempts: decision.attempts }, signal, event);
        return;
      }
      this.deps.count('retried');
      this.deps.log.info({ attempt, delayMs: decision.delayMs, id: event.attributes.id, reason: failureOf(response) }, 'delivery failed; retrying');
      if (!inPlace) {
        msg.nak(decision.delayMs);
        return;
      }
      await sleep(decision.delayMs, signal);
      if (signal.aborted) {
        msg.nak();
        return;
      }
      attempt++;
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
   * deliveries, so dropping it here would lose it.
   */
  private async deadLetter(msg: JsMsg, why: Omit<DeadLetterInfo, 'trigger' | 'function' | 'subject'>, signal: AbortSignal, event?: Event): Promise<void> {
    const subject = this.delivery.deadLetterSubject;
    const info: DeadLetterInfo = { ...why, trigger: this.name, function: this.trigger.spec.function, subject: msg.subject };
    if (!subject) {
      this.deps.log.error({ seq: msg.seq, ...info }, 'event failed for good and the trigger has no deadLetterSubject; dropping it');
      msg.term();
      this.deps.count('deadLettered');
      return;
    }
    // A wrapped plain message gets its attributes as ce- headers: its id names where the
    // original is stored, which the dead letter (and a redrive of it) is not.
    const headers = withHeaders(msg.headers, { ...(event ? wrappedEventHeaders(msg, event) : {}), ...deadLetterHeaders(info) });
    // A failed redrive is a dead letter like any other; left on, the mark would make a
    // trigger that consumes the dead-letter subject skip it.
    headers.delete(REDRIVE_TRIGGER_HEADER);
    for (let failures = 1; ; failures++) {
      try {
        await publishDurably(this.deps.nc, this.deps.js, this.deps.jsm, subject, msg.data, { headers, msgID: `${this.consumerName}.${msg.seq}.deadletter` });
        break;
      } catch (err) {
        this.deps.log.warn({ err, subject }, 'publishing a dead letter failed; trying again');
        await sleep(backoffDelay(RESTART_BACKOFF, failures), signal);
        if (signal.aborted) {
          msg.nak();
          return;
        }
      }
    }
    this.deps.log.warn({ seq: msg.seq, ...info, deadLetterSubject: subject }, 'event dead-lettered');
    msg.term();
    this.deps.count('deadLettered');
  }
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
