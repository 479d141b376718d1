// Acknowledgements sent together. The NATS client writes everything queued within one
// macrotask in a single socket write, but deliveries finish one I/O callback each, so
// acking at once costs a write (a syscall) per event, a large share of the dispatcher's
// CPU under load. Acks are queued here and sent at the next setImmediate, which batches
// every delivery that finished in the same turn of the event loop. An ack still only
// ever follows the function's 2xx; it is sent at most one loop turn later.
import type { JsMsg } from 'nats';

export class AckBatch {
  private pending: JsMsg[] = [];
  private scheduled = false;

  ack(msg: JsMsg): void {
    this.pending.push(msg);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Sends every queued ack now. */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    for (const msg of batch) {
      try {
        msg.ack();
      } catch {
        // The connection is gone: JetStream hands the event out again after its ack
        // wait, which at-least-once allows; throwing here would only lose the others.
      }
    }
  }
}
