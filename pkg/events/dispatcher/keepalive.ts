// While an event waits for its turn or for the function (a cold start can take longer
// than the ack wait), tell JetStream we are still working on it so it is not handed out
// a second time.
import type { JsMsg } from 'nats';

/** Sends an in-progress ack every `everyMs` until the returned stop function is called. */
export function keepAlive(msg: Pick<JsMsg, 'working'>, everyMs: number): () => void {
  const timer = setInterval(() => msg.working(), Math.max(50, everyMs));
  return () => clearInterval(timer);
}
