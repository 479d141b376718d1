// Publishing replies and dead letters. JetStream when a stream holds the subject, so the
// publish is confirmed and de-duplicated; plain NATS when none does, since a subscriber
// may be listening there directly.
import { headers as natsHeaders, type JetStreamClient, type JetStreamManager, type MsgHdrs, type NatsConnection } from 'nats';
import { isJetStreamControlHeader } from '../jetstream/control-headers.js';

export async function publishDurably(
  nc: NatsConnection,
  js: JetStreamClient,
  jsm: JetStreamManager,
  subject: string,
  data: Uint8Array,
  opts: { headers?: MsgHdrs; msgID?: string } = {},
): Promise<void> {
  // Asked first rather than inferred from a failed publish: a JetStream publish is a
  // request, and a plain subscriber on the subject would receive it and never answer.
  if (await hasStream(jsm, subject)) {
    await js.publish(subject, data, { ...(opts.headers ? { headers: opts.headers } : {}), ...(opts.msgID ? { msgID: opts.msgID } : {}) });
    return;
  }
  nc.publish(subject, data, opts.headers ? { headers: opts.headers } : {});
  await nc.flush();
}

async function hasStream(jsm: JetStreamManager, subject: string): Promise<boolean> {
  try {
    await jsm.streams.find(subject);
    return true;
  } catch (err) {
    if (err instanceof Error && /no stream matches subject/i.test(err.message)) return false;
    throw err;
  }
}

/**
 * A copy of `from` with `extra` set on top, without the producer's JetStream control
 * headers: its Nats-Msg-Id, reused in the same stream, would make JetStream drop the copy
 * as a duplicate, and its Nats-Expected-* conditions would refuse it.
 */
export function withHeaders(from: MsgHdrs | undefined, extra: Record<string, string>): MsgHdrs {
  const out = natsHeaders();
  for (const [k, values] of from ?? []) {
    if (isJetStreamControlHeader(k)) continue;
    for (const v of values) out.append(k, v);
  }
  for (const [k, v] of Object.entries(extra)) out.set(k, v);
  return out;
}
