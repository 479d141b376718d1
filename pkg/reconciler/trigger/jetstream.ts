// What the Trigger reconciler does in NATS, behind a narrow interface so the reconcile
// reads as steps: put the stream and the durable consumer in place, read the counts the
// dispatchers left in the stats bucket, and clean both up when a Trigger goes.
import { connect, type ConsumerConfig, type JetStreamManager, type KV, type NatsConnection } from 'nats';
import { ensureConsumer, removeConsumer } from '../../events/jetstream/consumer.js';
import { ensureStream, type StreamSpec } from '../../events/jetstream/stream.js';
import { openTriggerStats, purgeTriggerStats, readTriggerStats, type TriggerCounters, type TriggerKey } from '../../events/jetstream/trigger-stats.js';
import type { Logger } from '../../shared/log.js';

export interface TriggerJetStream {
  /** The stream exists and holds exactly `subjects`, and the consumer matches `config`. */
  ensureConsumer(stream: string, subjects: string[], config: ConsumerConfig): Promise<void>;
  /** The stream, if it exists or `subjects` is not empty, holds exactly `subjects` (see ensureStream). */
  syncStream(stream: string, subjects: string[]): Promise<void>;
  /** A consumer or stream already gone is not an error. */
  removeConsumer(stream: string, consumer: string): Promise<void>;
  readStats(trigger: TriggerKey): Promise<TriggerCounters>;
  purgeStats(trigger: TriggerKey): Promise<void>;
}

export interface NatsTriggerJetStreamOptions {
  servers: string;
  /** The connection's name, as nats-server's connz shows it (default kfn-controller). */
  name?: string;
  log: Logger;
  duplicateWindowMs: number;
  /** The stream of Triggers without spec.stream: kfn's, whoever made it. */
  defaultStream: string;
  /** num_replicas of the streams (and the counts bucket) kfn makes; 3 on a three-server NATS. Default 1. */
  streamReplicas?: number;
}

/**
 * TriggerJetStream on a NATS connection made at first use, so the controller starts (and
 * reconciles Functions) while NATS is not up yet; each call that finds no connection tries
 * again, and the failure lands in the Trigger's status. Once connected, the client
 * reconnects by itself for ever.
 */
export class NatsTriggerJetStream implements TriggerJetStream {
  private connecting: Promise<{ nc: NatsConnection; jsm: JetStreamManager; kv: KV }> | undefined;

  constructor(private readonly opts: NatsTriggerJetStreamOptions) {}

  async ensureConsumer(stream: string, subjects: string[], config: ConsumerConfig): Promise<void> {
    const { jsm } = await this.conn();
    await ensureStream(jsm, this.streamSpec(stream, subjects));
    await ensureConsumer(jsm, stream, config);
  }

  async syncStream(stream: string, subjects: string[]): Promise<void> {
    const { jsm } = await this.conn();
    await ensureStream(jsm, this.streamSpec(stream, subjects));
  }

  private streamSpec(stream: string, subjects: string[]): StreamSpec {
    return {
      name: stream,
      subjects,
      duplicateWindowMs: this.opts.duplicateWindowMs,
      owned: stream === this.opts.defaultStream,
      replicas: this.opts.streamReplicas ?? 1,
    };
  }

  async removeConsumer(stream: string, consumer: string): Promise<void> {
    const { jsm } = await this.conn();
    await removeConsumer(jsm, stream, consumer);
  }

  async readStats(trigger: TriggerKey): Promise<TriggerCounters> {
    return readTriggerStats((await this.conn()).kv, trigger);
  }

  async purgeStats(trigger: TriggerKey): Promise<void> {
    await purgeTriggerStats((await this.conn()).kv, trigger);
  }

  /** Closes the connection, if one was made. Nothing is in flight to drain: every call is awaited. */
  async close(): Promise<void> {
    const c = await this.connecting?.catch(() => undefined);
    this.connecting = undefined;
    if (c && !c.nc.isClosed()) await c.nc.close();
  }

  private conn(): Promise<{ nc: NatsConnection; jsm: JetStreamManager; kv: KV }> {
    this.connecting ??= this.open().catch((err: unknown) => {
      this.connecting = undefined;
      throw new Error(`connect to NATS at ${this.opts.servers}`, { cause: err });
    });
    return this.connecting;
  }

  private async open(): Promise<{ nc: NatsConnection; jsm: JetStreamManager; kv: KV }> {
    const nc = await connect({ servers: this.opts.servers, name: this.opts.name ?? 'kfn-controller', maxReconnectAttempts: -1 });
    try {
      const jsm = await nc.jetstreamManager();
      const kv = await openTriggerStats(nc.jetstream(), this.opts.streamReplicas ?? 1);
      this.opts.log.info({ servers: this.opts.servers }, 'connected to NATS');
      return { nc, jsm, kv };
    } catch (err) {
      await nc.close();
      throw err;
    }
  }
}
