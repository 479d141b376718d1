// While an event waits for its turn or for the function (a cold start can take longer
// than the ack wait), tell JetStream we are still working on it so it is not handed out
// a second time.
import type { JsMsg } from 'nats';

/**
 * Sends an in-progress ack now and every `everyMs` until the returned stop function is
 * called. Now too: the ack wait started when JetStream sent the event, which may have
 * waited in the client's buffer since.
 */
export function keepAlive(msg: Pick<JsMsg, 'working'>, everyMs: number): () => void {
  msg.working();
  const timer = setInterval(() => msg.working(), Math.max(50, everyMs));
  return () => clearInterval(timer);
}
