// Closing a NATS connection within a bound, whether or not the server is reachable.
import type { NatsConnection } from 'nats';
import { sleep } from './abort.js';
import type { Logger } from './log.js';

/** How long the acks, naks and publishes still buffered get to reach NATS at shutdown. */
export const DRAIN_TIMEOUT_MS = 5000;

/**
 * Drains the connection, so acks and naks sent last reach the server, then makes sure it
 * is closed. With NATS out of reach a drain waits for a reconnect that may never come, so
 * it is cut short after `timeoutMs` (those events come back after their ack wait, as
 * after a crash). A drain can also resolve without closing (nats.js swallows a failed
 * final flush), leaving the reconnect loop to keep the process alive: hence the close.
 */
export async function closeNats(nc: NatsConnection, log: Logger, timeoutMs = DRAIN_TIMEOUT_MS): Promise<void> {
  const timeout = new AbortController();
  const drained = nc.drain().then(
    () => true,
    (err: unknown) => {
      if (!nc.isClosed()) log.warn({ err }, 'draining the NATS connection failed');
      return false;
    },
  );
  const timedOut = sleep(timeoutMs, timeout.signal).then(() => false);
  const ok = await Promise.race([drained, timedOut]);
  timeout.abort();
  if (nc.isClosed()) return;
  if (!ok) log.warn({ timeoutMs }, 'NATS did not drain in time; closing');
  await nc.close();
}
