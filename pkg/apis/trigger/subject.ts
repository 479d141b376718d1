// NATS subject rules, as nats-server applies them: tokens separated by '.', none empty,
// no whitespace; `*` matches one token and `>` the rest, each only as a whole token and
// `>` only last. The patterns are the CRD's too (./schema.ts generates it), so
// both modes accept the same subjects.

/** nats-server's limit is larger; 255 keeps a subject usable as part of a header or a key. */
export const SUBJECT_MAX_LENGTH = 255;

// One literal token: anything but '.', the wildcards and whitespace. Spelled out rather
// than `\s` because JavaScript's `\s` and RE2's (the API server's CEL) differ on Unicode.
const LITERAL = '[^. \\t\\r\\n\\f*>]+';

/** A subject a trigger may listen on: wildcards allowed. */
export const SUBJECT_PATTERN = `^((${LITERAL}|[*])([.](${LITERAL}|[*]))*([.]>)?|>)$`;
/** A subject kfn publishes to (dead letters, replies): no wildcards. */
export const LITERAL_SUBJECT_PATTERN = `^${LITERAL}([.]${LITERAL})*$`;

const SUBJECT_RE = new RegExp(SUBJECT_PATTERN);
const LITERAL_SUBJECT_RE = new RegExp(LITERAL_SUBJECT_PATTERN);

/** True when `s` is a valid subject to subscribe to, wildcards allowed. */
export function isValidSubject(s: string): boolean {
  return s.length <= SUBJECT_MAX_LENGTH && SUBJECT_RE.test(s);
}

/** True when `s` is a valid subject to publish to: no wildcards. */
export function isLiteralSubject(s: string): boolean {
  return s.length <= SUBJECT_MAX_LENGTH && LITERAL_SUBJECT_RE.test(s);
}

/**
 * Why `s` may not be a Trigger's, reply or dead-letter subject, or undefined when it may.
 * The first token decides: a leading `>` or `*` covers (or overlaps) every subject,
 * NATS's own among them; `$` starts NATS's API and system subjects (`$JS.`, `$KV.`,
 * `$SYS.`, `$O.` …) and `_INBOX` its request replies. A stream holding any of them
 * captures NATS's own traffic (and its JetStream API stops answering cleanly), and the
 * ingress would let anyone publish there. The CRD says the same with cheap CEL
 * (startsWith and ==), so keep the two together.
 */
export function reservedSubjectProblem(s: string): string | undefined {
  return isReservedSubject(s) || s === '*' || s.startsWith('*.') || s === '>' || s.startsWith('>.') ? RESERVED_SUBJECT_MESSAGE : undefined;
}

export const RESERVED_SUBJECT_MESSAGE =
  "must not start with the token '>' or '*' (it would cover every subject, NATS's own too), '$' or '_INBOX' (NATS's API, system and reply subjects)";

/** True when the first token of `s` is NATS's: it starts with `$` or is `_INBOX`. Nothing kfn publishes to. */
export function isReservedSubject(s: string): boolean {
  return s.startsWith('$') || s === '_INBOX' || s.startsWith('_INBOX.');
}

/** True when `s` has a `*` or `>` token. */
export function hasWildcard(s: string): boolean {
  return s.split('.').some((t) => t === '*' || t === '>');
}

/**
 * True when a message published on `subject` is delivered to a subscription on
 * `pattern`: `*` takes exactly one token, `>` one or more, anything else must be equal.
 * "orders.>" matches "orders.eu.new" but not "orders"; "orders.*" matches "orders.eu".
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  const want = pattern.split('.');
  const got = subject.split('.');
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    if (w === '>' && i === want.length - 1) return got.length > i;
    const g = got[i];
    if (g === undefined || w === '' || g === '') return false;
    if (w !== '*' && w !== g) return false;
  }
  return got.length === want.length;
}

/**
 * True when every subject `inner` matches is also matched by `outer`: "orders.>" covers
 * "orders.*.new" and "orders.eu", "orders.*" covers "orders.eu" but not "orders.>".
 * JetStream refuses a stream whose subjects overlap, so a stream keeps only the widest.
 */
export function subjectCovers(outer: string, inner: string): boolean {
  const o = outer.split('.');
  const i = inner.split('.');
  for (let n = 0; n < o.length; n++) {
    const ot = o[n];
    if (ot === '>' && n === o.length - 1) return i.length > n;
    const it = i[n];
    if (it === undefined || it === '>') return false;
    if (ot !== '*' && (it === '*' || ot !== it)) return false;
  }
  return i.length === o.length;
}
