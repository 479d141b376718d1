// A fastify instance that answers every error with kfn's envelope (http-error.ts),
// including the answers fastify and Node give on their own: an unknown route (404), a
// known route with another method (405, which fastify answers as 404), a method the server
// does not know (501), a Content-Type nothing parses (415), bad JSON (400), a body over the
// limit (413), a path parameter over maxParamLength (414), a malformed URL (400), requests
// the HTTP parser refuses (431, 414, 408, 400: fastify's clientErrorHandler), and whatever
// a handler throws (500, logged; its message is not sent).
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ERROR_STATUS, HttpError, onClientError, type ClientError, type ErrorCode } from './http-error.js';
import type { Logger } from './log.js';

export interface HttpAppOptions {
  /** Largest request body; fastify's default is 1 MiB. */
  bodyLimit?: number;
  /** Longest path parameter; longer ones get 414. fastify's default is 100. */
  maxParamLength?: number;
  /** Where handler failures (500) are logged. */
  log?: Logger;
  /** What a client should send, for the 415 message. Default application/json. */
  accepts?: string;
  /** Appended to a 404's message: the routes this surface has. */
  routesHint?: string;
  /** A surface's own answer for an error, tried before the general mapping. */
  mapError?: (err: FastifyError, req: FastifyRequest) => HttpError | undefined;
}

export function createHttpApp(opts: HttpAppOptions = {}): FastifyInstance {
  const app = Fastify({
    logger: false,
    ...(opts.bodyLimit === undefined ? {} : { bodyLimit: opts.bodyLimit }),
    ...(opts.maxParamLength === undefined ? {} : { maxParamLength: opts.maxParamLength }),
    // fastify's default clientErrorHandler answers `{ error, message, statusCode }`.
    // Its types give rawPacket as a JSON-ified Buffer; node passes the Buffer.
    clientErrorHandler: (err, socket) => onClientError(err as unknown as ClientError, socket),
    // The URL fails before routing (bad percent-encoding, over-long parameter): without
    // this fastify writes its own body, bypassing the error handler.
    frameworkErrors: (err, req, reply) => void answer(reply, toHttpError(err, req)),
  });
  // Only JSON: fastify would also hand text/plain bodies to handlers as strings.
  app.removeContentTypeParser('text/plain');

  const toHttpError = (err: FastifyError, req: FastifyRequest): HttpError => {
    if (err instanceof HttpError) return err;
    const own = opts.mapError?.(err, req);
    if (own) return own;
    const known = frameworkError(err, req, opts);
    if (known) return known;
    opts.log?.error({ err, method: req.method, url: req.url }, 'request failed');
    return new HttpError('internal', 'internal error; the server logged it', { cause: err });
  };

  app.setErrorHandler((err: FastifyError, req, reply) => answer(reply, toHttpError(err, req)));
  app.setNotFoundHandler((req, reply) => {
    if (!app.supportedMethods.includes(req.method)) {
      return answer(reply, new HttpError('method_not_implemented', `method ${req.method} is not supported by this server`));
    }
    const hint = opts.routesHint ? `; ${opts.routesHint}` : '';
    return answer(reply, new HttpError('not_found', `no route for ${req.method} ${clip(req.url)}${hint}`));
  });
  answerOtherMethods(app);
  return app;
}

function answer(reply: FastifyReply, err: HttpError): FastifyReply {
  return reply.code(err.status).type('application/json; charset=utf-8').send(err.body);
}

/** fastify's own errors, by code (FST_ERR_*), else by their status. */
function frameworkError(err: FastifyError, req: FastifyRequest, opts: HttpAppOptions): HttpError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError('body_too_large', `request body is larger than the limit of ${opts.bodyLimit ?? 1024 * 1024} bytes`, { cause: err });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError('unsupported_media_type', `Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')} is not accepted here: send ${opts.accepts ?? 'application/json'}`, { cause: err });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpError('invalid_json', 'the request body is not valid JSON', { cause: err });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpError('invalid_json', 'the request body is empty, but Content-Type says JSON', { cause: err });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpError('bad_request', 'the request body is not as long as its Content-Length says', { cause: err });
    case 'FST_ERR_BAD_URL':
      return new HttpError('bad_request', `the URL ${JSON.stringify(clip(req.url))} is not valid (bad percent-encoding)`, { cause: err });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new HttpError('uri_too_long', `a path segment of the URL is longer than the limit of ${opts.maxParamLength ?? 100} characters`, { cause: err });
    case 'FST_ERR_VALIDATION':
      return new HttpError('bad_request', err.message, { cause: err });
  }
  const status = err.statusCode;
  if (status === undefined || status < 400 || status >= 500) return undefined;
  return new HttpError(CODE_OF_STATUS.get(status) ?? 'bad_request', err.message, { cause: err });
}

const GENERIC: readonly ErrorCode[] = ['bad_request', 'not_found', 'method_not_allowed', 'request_timeout', 'body_too_large', 'uri_too_long', 'unsupported_media_type', 'headers_too_large'];
const CODE_OF_STATUS = new Map<number, ErrorCode>(GENERIC.map((c) => [ERROR_STATUS[c], c]));

/**
 * fastify answers a known path with another method as 404 (fastify/fastify#862). Each
 * path gets a route for the methods it lacks, answering 405 with Allow before the body is
 * read. Added in a plugin, which fastify loads after the routes the builder declared.
 */
function answerOtherMethods(app: FastifyInstance): void {
  const methodsOf = new Map<string, Set<string>>();
  let sealed = false;
  app.addHook('onRoute', (route) => {
    if (sealed) return;
    const set = methodsOf.get(route.url) ?? new Set<string>();
    for (const m of [route.method].flat()) set.add(m);
    methodsOf.set(route.url, set);
  });
  void app.register((child, _opts, done) => {
    sealed = true;
    for (const [url, methods] of methodsOf) {
      const others = child.supportedMethods.filter((m) => !methods.has(m));
      if (others.length === 0) continue;
      const allow = [...methods].sort().join(', ');
      child.route({
        method: others,
        url,
        onRequest: async (req, reply) => answer(reply.header('allow', allow), new HttpError('method_not_allowed', `${req.method} is not allowed on ${url}: use ${allow}`)),
        // Never runs: onRequest has answered.
        handler: (_req, reply) => reply,
      });
    }
    done();
  });
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
