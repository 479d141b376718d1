// The HTTP event ingress: POST a CloudEvent (binary or structured mode) and it is
// published to JetStream with its id as Nats-Msg-Id, so a retried POST is stored once.
// 202 only after the JetStream stream kfn routed the subject to acknowledged the publish;
// a malformed or oversized event gets 400 or 413 and nothing is published.
//
// Only events get in: the ingress has no authentication, so it publishes to nothing but
// subjects one of kfn's streams holds (routes.ts), never into NATS's own space (`$JS.`,
// `$KV.`, `$SYS.`, `_INBOX.` …, where a publish is an API call such as "delete the
// stream"), and takes nothing but that stream's PubAck for "stored".
import type { FastifyInstance } from 'fastify';
import type { MsgHdrs, NatsConnection } from 'nats';
import { isLiteralSubject, isReservedSubject } from '../../apis/trigger/subject.js';
import { describeError } from '../../shared/describe-error.js';
import { createHttpApp } from '../../shared/http-app.js';
import { envelope, ERROR_STATUS, HttpError, type ErrorCode, type ErrorEnvelope } from '../../shared/http-error.js';
import type { Logger } from '../../shared/log.js';
import { EventFormatError } from '../cloudevents/event.js';
import { fromHttp } from '../cloudevents/http.js';
import { msgIdFor, toNatsMessage } from '../cloudevents/nats.js';
import type { TriggerState } from '../dispatcher/dispatcher.js';
import type { TriggerKey } from '../jetstream/trigger-stats.js';
import { streamInfo } from '../jetstream/stream.js';
import { SubjectRoutes } from './routes.js';

/** Largest event by default, in local mode and on a cluster alike: NATS's default max_payload. */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

export interface IngressDeps {
  nc: NatsConnection;
  log: Logger;
  /**
   * Largest request body accepted; larger ones get 413. The server's max_payload lowers
   * it: NATS refuses a bigger message (headers included) outright.
   */
  maxBodyBytes: number;
  /** The names of the streams kfn's Triggers use (kfnStreams); events go only to subjects these hold. */
  streams: () => Iterable<string>;
  now?: () => number;
}

/**
 * The streams the dispatcher's Triggers consume from, and the default one (which exists
 * for Triggers without spec.stream even while none is running). A Trigger the dispatcher
 * does not run (its Function is missing) adds no stream of its own.
 */
export function kfnStreams(defaultStream: string, dispatcher: { triggers(): TriggerKey[]; status(k: TriggerKey): TriggerState | undefined }): () => string[] {
  return () => [defaultStream, ...dispatcher.triggers().map((k) => dispatcher.status(k)?.stream).filter((s): s is string => s !== undefined)];
}

export interface PublishAccepted {
  id: string;
  subject: string;
  stream: string;
  seq: number;
  /** True when JetStream already held an event with this id: it is not stored twice. */
  duplicate: boolean;
}

/**
 * Longest subject in the URL. fastify's default of 100 characters would refuse real
 * subjects (`orders.eu-west-1.tenant-….created`); NATS itself bounds a subject only by its
 * control line (4 KiB by default), and the header limit bounds the URL.
 */
const MAX_SUBJECT_CHARS = 1024;

export function buildIngress(deps: IngressDeps): FastifyInstance {
  /** Read at each request: max_payload is the server's and may change with a reconnect. */
  const maxPayload = (): number => deps.nc.info?.max_payload ?? deps.maxBodyBytes;
  const tooLarge = (what: string): Refusal =>
    problem('body_too_large', `${what} is larger than the ${Math.min(deps.maxBodyBytes, maxPayload())}-byte limit (the smaller of the ingress's limit and the NATS server's max_payload, ${maxPayload()} bytes, which counts headers too)`);
  const app = createHttpApp({
    bodyLimit: deps.maxBodyBytes,
    maxParamLength: MAX_SUBJECT_CHARS,
    log: deps.log,
    routesHint: 'POST a CloudEvent to /<subject> or /publish/<subject>',
    mapError: (err, req) => {
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        const { body } = tooLarge('event body');
        return new HttpError(body.error.code, body.error.message, { cause: err });
      }
      // fastify refuses a Content-Type it cannot parse as type/subtype before kfn sees it;
      // for a CloudEvent that is a malformed event, as fromHttp says of other bad headers.
      if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        const ct = JSON.stringify(req.headers['content-type'] ?? '');
        return new HttpError('malformed_event', `Content-Type ${ct} is not a media type (type/subtype, RFC 2046): send a valid one, or leave the header out for data without a content type`, { cause: err });
      }
      return undefined;
    },
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  const routes = new SubjectRoutes({
    streams: deps.streams,
    info: (stream) => streamInfo(deps.nc, stream),
    log: deps.log,
    ...(deps.now ? { now: deps.now } : {}),
  });

  const publish = async (subject: string, headers: Record<string, string | string[] | undefined>, body: Buffer | undefined): Promise<{ status: number; body: PublishAccepted | ErrorEnvelope }> => {
    if (!isLiteralSubject(subject)) {
      return problem('invalid_subject', `"${subject}" is not a subject to publish to: dot-separated tokens, no wildcards or whitespace`);
    }
    if (isReservedSubject(subject)) {
      return problem('reserved_subject', `"${subject}" is NATS's own subject (its first token starts with '$' or is '_INBOX': NATS's API, system and reply subjects), not an event subject`);
    }
    if (body !== undefined && body.length > maxPayload()) return tooLarge('event body');
    let event;
    try {
      event = fromHttp(headers, body ?? Buffer.alloc(0));
    } catch (err) {
      if (err instanceof EventFormatError) return problem('malformed_event', err.message);
      throw err;
    }
    const stream = await routes.streamFor(subject);
    if (stream === undefined) {
      const unreadable = routes.unreadable;
      if (unreadable === undefined) return noStream(subject);
      deps.log.warn({ err: unreadable, subject }, 'cannot tell which stream holds the subject');
      return problem('publish_failed', `cannot read kfn's streams from JetStream, try again: ${describeError(unreadable)}`);
    }
    const msg = toNatsMessage(event);
    const msgID = msgIdFor(event);
    // js.publish adds Nats-Msg-Id; NATS counts every header byte.
    if (messageBytes(msg.headers, msg.data.length, { 'Nats-Msg-Id': msgID }) > maxPayload()) return tooLarge('event with its headers');
    try {
      // The ack's stream is checked rather than sent as Nats-Expected-Stream: JetStream
      // stores that header with the event, and dead letters and redrives copy the
      // event's headers, so it would make them fail once the stream they go to differs.
      // The routing above already sends only subjects kfn's stream held a moment ago.
      const ack = await deps.nc.jetstream().publish(subject, msg.data, { headers: msg.headers, msgID });
      if (ack.stream !== stream) {
        void routes.refresh();
        deps.log.warn({ subject, expected: stream, stream: ack.stream, seq: ack.seq }, 'a stream that is not kfn\'s took the event');
        return noStream(subject);
      }
      deps.log.debug({ id: event.attributes.id, subject, stream, seq: ack.seq, duplicate: ack.duplicate }, 'event published');
      return { status: 202, body: { id: event.attributes.id, subject, stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate } };
    } catch (err) {
      const e = err as { code?: unknown; message?: string };
      // The cached subjects were stale: the subject left the stream since.
      if (e.code === '503' || /no responders/i.test(e.message ?? '')) {
        void routes.refresh();
        return noStream(subject);
      }
      if (e.code === 'MAX_PAYLOAD_EXCEEDED') return tooLarge('event with its headers');
      deps.log.warn({ err, subject }, 'publishing an event failed');
      return problem('publish_failed', `JetStream did not acknowledge the event: ${e.message ?? String(err)}`);
    }
  };

  for (const route of ['/publish/:subject', '/:subject']) {
    app.post<{ Params: { subject: string }; Body: Buffer | undefined }>(route, async (req, reply) => {
      const out = await publish(req.params.subject, req.headers, req.body);
      return reply.code(out.status).send(out.body);
    });
  }
  return app;
}

function noStream(subject: string): Refusal {
  return problem('no_stream', `no JetStream stream of kfn's Triggers holds subject "${subject}": create a Trigger on it first`);
}

/** The size of the message as NATS counts it: "NATS/1.0\r\n", each header line, the blank line, the payload. */
function messageBytes(headers: MsgHdrs, dataBytes: number, extra: Record<string, string>): number {
  let n = 'NATS/1.0\r\n\r\n'.length + dataBytes;
  const line = (k: string, v: string): number => Buffer.byteLength(k) + 2 + Buffer.byteLength(v) + 2;
  for (const k of headers.keys()) for (const v of headers.values(k)) n += line(k, v);
  for (const [k, v] of Object.entries(extra)) n += line(k, v);
  return n;
}

interface Refusal {
  status: number;
  body: ErrorEnvelope;
}

function problem(code: ErrorCode, message: string): Refusal {
  return { status: ERROR_STATUS[code], body: envelope(code, message) };
}
