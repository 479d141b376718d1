// Headers on a message published to a Trigger's dead-letter subject, saying why it is
// there and where it came from; the message's payload and other headers are the original
// event's. `kfn dlq list` reads them back with readDeadLetter; `kfn dlq redrive` marks the
// republished event with kfn-redrive-trigger so only that trigger takes it again.
import { headerMap, type HeaderSource } from '../cloudevents/headers.js';

/**
 * - kfn-dlq-reason: `rejected` (a non-retryable answer such as 400), `retries-exhausted`,
 *   `malformed` (not a valid CloudEvent), `reply-failed` (its reply could not be
 *   published) or `internal` (handling it threw inside the dispatcher)
 * - kfn-dlq-status: the function's last HTTP status, when it answered at all
 * - kfn-dlq-attempts: deliveries made, first one included
 * - kfn-dlq-trigger: `<namespace>/<trigger name>`
 * - kfn-dlq-function: the function's name
 * - kfn-dlq-error: the last transport error (`timeout`, `connection`, …), when there was one
 * - kfn-dlq-subject: the subject the event was published on, where a redrive sends it back
 */
export const DEAD_LETTER_HEADERS = {
  reason: 'kfn-dlq-reason',
  status: 'kfn-dlq-status',
  attempts: 'kfn-dlq-attempts',
  trigger: 'kfn-dlq-trigger',
  function: 'kfn-dlq-function',
  lastError: 'kfn-dlq-error',
  subject: 'kfn-dlq-subject',
} as const;

/** Every dead-letter header starts with this; a redrive strips them all. */
export const DEAD_LETTER_HEADER_PREFIX = 'kfn-dlq-';

/**
 * `<namespace>/<name>` of the one trigger a redriven event is for. Every trigger on the
 * subject sees the republished event (JetStream 2.9 has no per-consumer multi-filter to
 * aim it), so the others ack it unseen.
 */
export const REDRIVE_TRIGGER_HEADER = 'kfn-redrive-trigger';

export interface DeadLetterInfo {
  reason: string;
  status?: number;
  attempts: number;
  /** `<namespace>/<name>` of the trigger. */
  trigger: string;
  function: string;
  lastError?: string;
  /** The subject the event was published on; missing on dead letters older than the header. */
  subject?: string;
}

/** Longest kfn-dlq-error kept; a header is no place for a stack trace. */
const MAX_ERROR_LENGTH = 512;

/** NATS and HTTP header values cannot hold CR/LF or other control characters: one line, single spaces. */
function headerSafe(value: string, max = Infinity): string {
  const clean = value.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

export function deadLetterHeaders(info: DeadLetterInfo): Record<string, string> {
  const h = DEAD_LETTER_HEADERS;
  const out: Record<string, string> = {
    [h.reason]: headerSafe(info.reason),
    [h.attempts]: String(info.attempts),
    [h.trigger]: headerSafe(info.trigger),
    [h.function]: headerSafe(info.function),
  };
  if (info.status !== undefined) out[h.status] = String(info.status);
  if (info.lastError !== undefined && info.lastError !== '') out[h.lastError] = headerSafe(info.lastError, MAX_ERROR_LENGTH);
  // Subjects hold no whitespace or control characters, so this one is never rewritten.
  if (info.subject !== undefined && info.subject !== '') out[h.subject] = info.subject;
  return out;
}

/** The dead-letter facts of a message, or undefined when it carries no kfn-dlq-reason. */
export function readDeadLetter(headers: HeaderSource | undefined): DeadLetterInfo | undefined {
  const map = headerMap(headers);
  const h = DEAD_LETTER_HEADERS;
  const reason = map.get(h.reason);
  if (reason === undefined) return undefined;
  const attempts = Number.parseInt(map.get(h.attempts) ?? '', 10);
  const status = Number.parseInt(map.get(h.status) ?? '', 10);
  const lastError = map.get(h.lastError);
  const subject = map.get(h.subject);
  return {
    reason,
    ...(Number.isFinite(status) ? { status } : {}),
    attempts: Number.isFinite(attempts) ? attempts : 0,
    trigger: map.get(h.trigger) ?? '',
    function: map.get(h.function) ?? '',
    ...(lastError !== undefined ? { lastError } : {}),
    ...(subject !== undefined && subject !== '' ? { subject } : {}),
  };
}

/**
 * True when the message may go to `trigger` (`<namespace>/<name>`): it is no redrive, or a
 * redrive for that very trigger.
 */
export function redriveAllows(headers: HeaderSource | undefined, trigger: string): boolean {
  const target = headerMap(headers).get(REDRIVE_TRIGGER_HEADER);
  return target === undefined || target === trigger;
}
