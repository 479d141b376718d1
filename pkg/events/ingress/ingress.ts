// The HTTP event ingress: POST a CloudEvent (binary or structured mode) and it is
// published to JetStream with its id as Nats-Msg-Id, so a retried POST is stored once.
// 202 only after JetStream acknowledged the publish; a malformed or oversized event gets
// 400 or 413 and nothing is published.
import Fastify, { type FastifyInstance } from 'fastify';
import type { JetStreamClient } from 'nats';
import { isLiteralSubject } from '../../apis/trigger/subject.js';
import type { Logger } from '../../shared/log.js';
import { EventFormatError } from '../cloudevents/event.js';
import { fromHttp } from '../cloudevents/http.js';
import { msgIdFor, toNatsMessage } from '../cloudevents/nats.js';

export interface IngressDeps {
  js: JetStreamClient;
  log: Logger;
  /** Largest request body accepted; larger ones get 413. */
  maxBodyBytes: number;
}

export interface PublishAccepted {
  id: string;
  subject: string;
  stream: string;
  seq: number;
  /** True when JetStream already held an event with this id: it is not stored twice. */
  duplicate: boolean;
}

interface ErrorBody {
  error: { code: string; message: string };
}

export function buildIngress(deps: IngressDeps): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: deps.maxBodyBytes });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, _req, reply) => {
    if (err.statusCode === 413 || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send(problem('TooLarge', `event body is larger than the ${deps.maxBodyBytes}-byte limit`));
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send(problem('BadRequest', err.message));
    }
    deps.log.error({ err }, 'ingress request failed');
    return reply.code(500).send(problem('Internal', err.message));
  });

  const publish = async (subject: string, headers: Record<string, string | string[] | undefined>, body: Buffer | undefined): Promise<{ status: number; body: PublishAccepted | ErrorBody }> => {
    if (!isLiteralSubject(subject)) {
      return { status: 400, body: problem('InvalidSubject', `"${subject}" is not a subject to publish to: dot-separated tokens, no wildcards or whitespace`) };
    }
    let event;
    try {
      event = fromHttp(headers, body ?? Buffer.alloc(0));
    } catch (err) {
      if (err instanceof EventFormatError) return { status: 400, body: problem('MalformedEvent', err.message) };
      throw err;
    }
    const msg = toNatsMessage(event);
    try {
      const ack = await deps.js.publish(subject, msg.data, { headers: msg.headers, msgID: msgIdFor(event) });
      deps.log.debug({ id: event.attributes.id, subject, seq: ack.seq, duplicate: ack.duplicate }, 'event published');
      return { status: 202, body: { id: event.attributes.id, subject, stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate } };
    } catch (err) {
      const e = err as { code?: unknown; message?: string };
      if (e.code === '503' || /no responders/i.test(e.message ?? '')) {
        return { status: 404, body: problem('NoStream', `no JetStream stream holds subject "${subject}"`) };
      }
      deps.log.warn({ err, subject }, 'publishing an event failed');
      return { status: 503, body: problem('PublishFailed', `JetStream did not acknowledge the event: ${e.message ?? String(err)}`) };
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

function problem(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}
