// One trigger's dead letters: list them, and redrive them (republish each to the subject
// it came from, for that trigger alone, then remove it). They sit in whichever JetStream
// stream holds the trigger's deadLetterSubject, possibly next to other triggers' letters
// on the same subject; the kfn-dlq-trigger header tells them apart.
import type { JetStreamClient, JetStreamManager, MsgRequest, StoredMsg } from 'nats';
import { fromNatsMessage } from '../cloudevents/nats.js';
import { headerMap } from '../cloudevents/headers.js';
import { readDeadLetter, type DeadLetterInfo } from '../policy/deadletter.js';
import { isNotFound } from '../jetstream/stream.js';
import { redriveMessage } from './redrive-message.js';

export interface DeadLetterQuery {
  /** `<namespace>/<name>` of the trigger. */
  trigger: string;
  deadLetterSubject: string;
}

export interface DeadLetterEntry {
  stream: string;
  seq: number;
  /** When the dead letter was stored, ISO 8601. */
  time: string;
  /** The event's attributes; missing when the event could not be read at all. */
  id?: string;
  type?: string;
  source?: string;
  reason: string;
  status?: number;
  attempts: number;
  lastError?: string;
  /** The subject the event was published on. */
  subject?: string;
  function: string;
}

export interface RedriveFailure {
  seq: number;
  id?: string;
  error: string;
}

export interface RedriveResult {
  redriven: number;
  failed: RedriveFailure[];
}

/** The problem is the setup (no stream keeps the subject), not a single letter. */
export class DeadLetterError extends Error {
  override readonly name = 'DeadLetterError';
}

/** The trigger's dead letters, oldest first, at most `limit`. */
export async function listDeadLetters(jsm: JetStreamManager, query: DeadLetterQuery & { limit?: number }): Promise<DeadLetterEntry[]> {
  const stream = await deadLetterStream(jsm, query.deadLetterSubject);
  const out: DeadLetterEntry[] = [];
  for await (const { msg, info } of lettersOf(jsm, stream, query)) {
    if (query.limit !== undefined && out.length >= query.limit) break;
    out.push(entryOf(stream, msg, info));
  }
  return out;
}

/**
 * Republishes each of the trigger's dead letters, oldest first, and deletes it once
 * JetStream confirmed the publish. One that cannot be republished stays where it is and
 * is reported; the others go on.
 */
export async function redriveDeadLetters(js: JetStreamClient, jsm: JetStreamManager, query: DeadLetterQuery): Promise<RedriveResult> {
  const stream = await deadLetterStream(jsm, query.deadLetterSubject);
  const result: RedriveResult = { redriven: 0, failed: [] };
  for await (const { msg, info } of lettersOf(jsm, stream, query)) {
    const id = entryOf(stream, msg, info).id;
    const fail = (error: string): void => void result.failed.push({ seq: msg.seq, ...(id !== undefined ? { id } : {}), error });
    const out = redriveMessage({ stream, seq: msg.seq, headers: msg.header }, query.trigger);
    if ('error' in out) {
      fail(out.error);
      continue;
    }
    try {
      await js.publish(out.subject, msg.data, { headers: out.headers, msgID: out.msgID });
    } catch (err) {
      fail(`republishing to ${out.subject}: ${describePublishError(err)}`);
      continue;
    }
    try {
      await jsm.streams.deleteMessage(stream, msg.seq, false);
    } catch (err) {
      // Already gone: a redrive running at the same time got there first (and its
      // publish was the same message, de-duplicated by msgID).
      if (!isNotFound(err)) {
        fail(`republished to ${out.subject}, but not removed from the dead letters (a redrive within the stream's duplicate window will not deliver it twice): ${(err as Error).message}`);
        continue;
      }
    }
    result.redriven++;
  }
  return result;
}

/** The stream that keeps messages published on `subject`. */
export async function deadLetterStream(jsm: JetStreamManager, subject: string): Promise<string> {
  try {
    return await jsm.streams.find(subject);
  } catch (err) {
    if (err instanceof Error && /no stream matches subject/i.test(err.message)) {
      throw new DeadLetterError(`no JetStream stream holds the dead-letter subject ${subject}, so no dead letters were kept there`);
    }
    throw err;
  }
}

/**
 * The trigger's dead letters on the subject, read one by one by subject. The scan ends
 * at the stream's last message when it began: a redriven event that fails again comes
 * back as a new dead letter, and must not be redriven again in the same pass.
 */
async function* lettersOf(jsm: JetStreamManager, stream: string, query: DeadLetterQuery): AsyncGenerator<{ msg: StoredMsg; info: DeadLetterInfo }> {
  const state = (await jsm.streams.info(stream)).state;
  let seq = Math.max(1, state.first_seq);
  // By subject while the server finds them; one by one when it cannot (see below).
  let walk = false;
  while (seq <= state.last_seq) {
    let msg: StoredMsg;
    try {
      msg = await jsm.streams.getMessage(stream, walk ? { seq } : nextBySubject(seq, query.deadLetterSubject));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      if (walk) {
        seq++;
        continue;
      }
      // nats-server 2.9 can lose track of a subject's next message after some of its
      // messages were deleted (a redrive deletes them), and answer "no message" while
      // some are left: if the subject still holds any, walk the rest one by one.
      if (!(await subjectHolds(jsm, stream, query.deadLetterSubject))) return;
      walk = true;
      continue;
    }
    if (msg.seq > state.last_seq) return;
    seq = msg.seq + 1;
    if (msg.subject !== query.deadLetterSubject) continue;
    const info = readDeadLetter(msg.header);
    if (info?.trigger === query.trigger) yield { msg, info };
  }
}

async function subjectHolds(jsm: JetStreamManager, stream: string, subject: string): Promise<boolean> {
  const info = await jsm.streams.info(stream, { subjects_filter: subject });
  return (info.state.subjects?.[subject] ?? 0) > 0;
}

/**
 * STREAM.MSG.GET has taken `next_by_subj` since nats-server 2.9; nats.js types it only
 * for the direct-get API, which needs allow_direct on the stream.
 */
function nextBySubject(seq: number, subject: string): MsgRequest {
  return { seq, next_by_subj: subject } as unknown as MsgRequest;
}

function entryOf(stream: string, msg: StoredMsg, info: DeadLetterInfo): DeadLetterEntry {
  const event = eventAttributes(stream, msg, info);
  return {
    stream,
    seq: msg.seq,
    time: msg.time.toISOString(),
    ...event,
    reason: info.reason,
    ...(info.status !== undefined ? { status: info.status } : {}),
    attempts: info.attempts,
    ...(info.lastError !== undefined ? { lastError: info.lastError } : {}),
    ...(info.subject !== undefined ? { subject: info.subject } : {}),
    function: info.function,
  };
}

/** id, type and source as the trigger saw them; the raw headers when the event is malformed. */
function eventAttributes(stream: string, msg: StoredMsg, info: DeadLetterInfo): { id?: string; type?: string; source?: string } {
  try {
    const { id, type, source } = fromNatsMessage({ subject: info.subject ?? msg.subject, headers: msg.header, data: msg.data, stream, seq: msg.seq }).attributes;
    return { id, type, source };
  } catch {
    const h = headerMap(msg.header);
    const pick = (name: string): Record<string, string> => {
      const v = h.get(`ce-${name}`);
      return v !== undefined ? { [name]: v } : {};
    };
    return { ...pick('id'), ...pick('type'), ...pick('source') };
  }
}

function describePublishError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  if (e.code === '503') return 'no JetStream stream holds the subject';
  return String(e.message ?? err);
}
