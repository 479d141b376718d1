// Whether kfn dev's event bus can reach NATS, from two sources: the supervised
// nats-server's state (when kfn dev runs its own) and the client connection's status
// events (always; the only source with NATS_URL). Health, trigger status and `kfn get`
// all read the one verdict computed here.
import { Events, type NatsConnection } from 'nats';
import type { Logger } from '../shared/log.js';
import type { NatsServerState } from './nats-server.js';

/** Ready's reason on every trigger while NATS cannot be reached. */
export const REASON_NATS_UNAVAILABLE = 'NatsUnavailable';

export interface NatsProblem {
  reason: string;
  message: string;
}

export interface NatsView {
  url: string;
  /** Undefined when NATS is someone else's (NATS_URL). */
  server?: NatsServerState;
  connected: boolean;
  /** When the connection was lost, for the message. */
  downSince?: Date;
}

/** Undefined when NATS is usable; otherwise what is wrong, in words a person can act on. */
export function natsProblem(v: NatsView): NatsProblem | undefined {
  const since = v.downSince ? ` since ${v.downSince.toISOString()}` : '';
  const meanwhile = 'the ingress refuses events (503) and deliveries pause until it is back; nothing stored is lost';
  if (v.server?.type === 'restarting') {
    const s = v.server;
    return {
      reason: REASON_NATS_UNAVAILABLE,
      message:
        `kfn dev's nats-server at ${v.url} exited (${s.exit}); restarting it (attempt ${s.attempt}, next try within ${s.retryInMs} ms); ` +
        `${meanwhile}. If it keeps failing, see kfn dev's log for nats-server's error`,
    };
  }
  if (v.server?.type === 'stopped') return { reason: REASON_NATS_UNAVAILABLE, message: `kfn dev's nats-server at ${v.url} is stopped (kfn dev is shutting down)` };
  if (v.connected) return undefined;
  const fix = v.server
    ? 'kfn dev reconnects by itself'
    : 'check that the server given by NATS_URL (or --nats-url) is running and reachable; kfn dev reconnects by itself';
  return { reason: REASON_NATS_UNAVAILABLE, message: `NATS at ${v.url} is unreachable${since}; ${meanwhile}; ${fix}` };
}

/** The current verdict, and a call on every change of it. */
export class NatsHealth {
  private view: NatsView;
  private problem: NatsProblem | undefined;
  private readonly listeners = new Set<(p: NatsProblem | undefined) => void>();

  constructor(url: string, server?: NatsServerState, private readonly now: () => Date = () => new Date()) {
    this.view = { url, connected: true, ...(server ? { server } : {}) };
  }

  current(): NatsProblem | undefined {
    return this.problem;
  }

  onChange(listener: (p: NatsProblem | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setServer(server: NatsServerState): void {
    this.update({ ...this.view, server });
  }

  setConnected(connected: boolean): void {
    if (connected === this.view.connected) return;
    const { downSince: _, ...rest } = this.view;
    this.update(connected ? { ...rest, connected } : { ...rest, connected, downSince: this.now() });
  }

  private update(view: NatsView): void {
    this.view = view;
    const next = natsProblem(view);
    const changed = (next === undefined) !== (this.problem === undefined) || next?.message !== this.problem?.message;
    this.problem = next;
    if (changed) for (const l of this.listeners) l(next);
  }
}

/**
 * Feeds the connection's disconnect / reconnect events into `health` until the
 * connection closes or `signal` aborts. nats.js reports a lost server at once (the socket closes) and a
 * reconnect once it is back and the subscriptions are resent.
 */
export async function watchConnection(nc: NatsConnection, health: NatsHealth, log: Logger, signal: AbortSignal): Promise<void> {
  // Neither the status iterator nor closed() is sure to end after a close() made while
  // reconnecting (nats.js): the caller's signal ends the watch.
  const end = { done: true as const, value: undefined };
  const stopped = new Promise<typeof end>((resolve) => (signal.aborted ? resolve(end) : signal.addEventListener('abort', () => resolve(end), { once: true })));
  const closed = Promise.race([nc.closed().then(() => end), stopped]);
  const statuses = nc.status()[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await Promise.race([statuses.next(), closed]);
      if (next.done) return;
      const s = next.value;
      if (s.type === Events.Disconnect) {
        log.warn({ server: s.data }, 'lost the connection to NATS; reconnecting');
        health.setConnected(false);
      } else if (s.type === Events.Reconnect) {
        log.info({ server: s.data }, 'reconnected to NATS');
        health.setConnected(true);
      }
    }
  } finally {
    // Not awaited: an async generator's return() waits behind the next() still pending.
    void statuses.return?.().catch(() => undefined);
  }
}
