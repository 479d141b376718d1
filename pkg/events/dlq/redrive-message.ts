// What a redrive publishes for one dead letter: the original event, on its original
// subject, with its original headers but none of the dead-letter ones, marked for the one
// trigger it failed at.
import { headers as natsHeaders, type MsgHdrs } from 'nats';
import { isJetStreamControlHeader } from '../jetstream/control-headers.js';
import { DEAD_LETTER_HEADER_PREFIX, REDRIVE_TRIGGER_HEADER, readDeadLetter } from '../policy/deadletter.js';

export interface StoredLetter {
  /** The stream holding the dead letter, and its sequence there. */
  stream: string;
  seq: number;
  headers: MsgHdrs | undefined;
}

export interface RedriveMessage {
  subject: string;
  headers: MsgHdrs;
  /**
   * Names the dead letter, not the event: a redrive repeated (or run twice at once)
   * within the target stream's duplicate window stores the event once.
   */
  msgID: string;
}

export function redriveMsgId(stream: string, seq: number): string {
  return `kfn-redrive.${stream}.${seq}`;
}

/** The message to republish, or why there is none. `trigger` is `<namespace>/<name>`. */
export function redriveMessage(letter: StoredLetter, trigger: string): RedriveMessage | { error: string } {
  const info = readDeadLetter(letter.headers);
  if (!info) return { error: 'not a dead letter: it has no kfn-dlq-reason header' };
  if (!info.subject) return { error: 'the dead letter has no kfn-dlq-subject header (written before kfn recorded it), so where it came from is unknown' };
  const headers = natsHeaders();
  for (const [name, values] of letter.headers ?? []) {
    const lower = name.toLowerCase();
    // JetStream control headers (the dead letter's Nats-Msg-Id, a producer's
    // Nats-Expected-*) were conditions of earlier publishes, not of this one.
    if (lower.startsWith(DEAD_LETTER_HEADER_PREFIX) || isJetStreamControlHeader(name) || lower === REDRIVE_TRIGGER_HEADER) continue;
    for (const v of values) headers.append(name, v);
  }
  headers.set(REDRIVE_TRIGGER_HEADER, trigger);
  return { subject: info.subject, headers, msgID: redriveMsgId(letter.stream, letter.seq) };
}
