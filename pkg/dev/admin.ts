// The admin API of `kfn dev`: what `kfn apply / get / delete` talk to, plus /healthz and
// /metrics. Built apart from listen() so tests can drive it with inject().
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { createHttpApp } from '../shared/http-app.js';
import { envelope, type ErrorEnvelope } from '../shared/http-error.js';
import type { Logger } from '../shared/log.js';
import { applyManifests, ManifestError, readManifests, type Stores } from './apply.js';
import { checkAdminRequest, type AdminAccess } from './admin-access.js';
import type { ResourceStore, Resource } from './store.js';

export interface AdminDeps {
  stores: Stores;
  metrics: Registry;
  info: () => Record<string, unknown>;
  /** What is down now (empty: healthy); /healthz answers 503 with it. Default: nothing. */
  health?: () => HealthProblem[];
  /** Largest manifest body accepted. */
  bodyLimit?: number;
  /** Where handler failures are logged. */
  log?: Logger;
  /** Who may call it (admin-access.ts); default: loopback names only, no token. */
  access?: AdminAccess;
}

export interface HealthProblem {
  component: string;
  reason: string;
  message: string;
}

interface ApplyBody {
  manifest: string;
  dir: string;
  source?: string;
}

export function buildAdminApp(deps: AdminDeps): FastifyInstance {
  const app = createHttpApp({
    bodyLimit: deps.bodyLimit ?? 4 * 1024 * 1024,
    ...(deps.log ? { log: deps.log } : {}),
    routesHint: 'the admin API has /healthz, /metrics, /api/info, /api/functions, /api/triggers and POST /api/apply',
  });
  const { stores } = deps;
  const access = deps.access ?? {};

  // Before routing and before any body is read: a refused request learns nothing else.
  app.addHook('onRequest', async (req, reply) => {
    const refused = checkAdminRequest(access, {
      method: req.method,
      host: req.headers.host,
      origin: req.headers.origin,
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      // inject() has no real socket; its requests say Host localhost:80.
      localPort: req.socket.localPort ?? 80,
    });
    if (!refused) return;
    if (refused.code === 'unauthorized') void reply.header('www-authenticate', 'Bearer realm="kfn dev"');
    return reply.code(refused.status).type('application/json; charset=utf-8').send(refused.body);
  });

  // Text "ok" when healthy, as before; the envelope naming each problem otherwise.
  app.get('/healthz', async (_req, reply) => {
    const problems = deps.health?.() ?? [];
    if (problems.length === 0) return reply.type('text/plain').send('ok');
    const described = problems.map((p) => `${p.component}: ${p.reason}: ${p.message}`);
    return reply.code(503).send(envelope('unhealthy', described.join('; '), described));
  });
  app.get('/metrics', async (_req, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()));
  app.get('/api/info', () => deps.info());

  resourceRoutes(app, 'functions', 'function', stores.functions);
  resourceRoutes(app, 'triggers', 'trigger', stores.triggers);

  app.post<{ Body: ApplyBody }>(
    '/api/apply',
    {
      schema: {
        body: {
          type: 'object',
          required: ['manifest', 'dir'],
          properties: { manifest: { type: 'string' }, dir: { type: 'string' }, source: { type: 'string' } },
        },
      },
    },
    async (req, reply) => {
      const { manifest, dir, source } = req.body;
      try {
        const m = readManifests(manifest, { dir, source: source ?? '<stdin>' });
        if (m.functions.length + m.triggers.length === 0) {
          return reply.code(422).send(envelope('invalid_manifest', 'no kfn resources in the manifest', ['no kfn resources in the manifest']));
        }
        return { results: applyManifests(stores, m) };
      } catch (err) {
        if (err instanceof ManifestError) {
          return reply.code(422).send(envelope('invalid_manifest', err.message, err.problems));
        }
        throw err;
      }
    },
  );

  return app;
}

/** GET list, GET one and DELETE one under /api/<plural>. */
function resourceRoutes<T extends Resource>(app: FastifyInstance, plural: string, kind: string, store: ResourceStore<T>): void {
  const notFound = (p: { namespace: string; name: string }): ErrorEnvelope => envelope('not_found', `${kind} ${p.namespace}/${p.name} not found`);
  app.get(`/api/${plural}`, () => ({ items: store.list() }));
  app.get<{ Params: { namespace: string; name: string } }>(`/api/${plural}/:namespace/:name`, async (req, reply) => {
    const obj = store.get(req.params);
    if (!obj) return reply.code(404).send(notFound(req.params));
    return obj;
  });
  app.delete<{ Params: { namespace: string; name: string } }>(`/api/${plural}/:namespace/:name`, async (req, reply) => {
    if (!store.delete(req.params)) return reply.code(404).send(notFound(req.params));
    return { deleted: `${req.params.namespace}/${req.params.name}` };
  });
}
