// The admin API of `kfn dev`: what `kfn apply / get / delete` talk to, plus /healthz and
// /metrics. Built apart from listen() so tests can drive it with inject().
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { applyFunctions, ManifestError, readFunctions } from './apply.js';
import type { FunctionStore } from './store.js';

export interface AdminDeps {
  store: FunctionStore;
  metrics: Registry;
  info: () => Record<string, unknown>;
  /** Largest manifest body accepted. */
  bodyLimit?: number;
}

interface ApplyBody {
  manifest: string;
  dir: string;
  source?: string;
}

export function buildAdminApp(deps: AdminDeps): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: deps.bodyLimit ?? 4 * 1024 * 1024 });
  const { store } = deps;

  app.get('/healthz', () => 'ok');
  app.get('/metrics', async (_req, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()));
  app.get('/api/info', () => deps.info());

  app.get('/api/functions', () => ({ items: store.list() }));

  app.get<{ Params: { namespace: string; name: string } }>('/api/functions/:namespace/:name', async (req, reply) => {
    const fn = store.get(req.params);
    if (!fn) return reply.code(404).send(notFound(req.params));
    return fn;
  });

  app.delete<{ Params: { namespace: string; name: string } }>('/api/functions/:namespace/:name', async (req, reply) => {
    if (!store.delete(req.params)) return reply.code(404).send(notFound(req.params));
    return { deleted: `${req.params.namespace}/${req.params.name}` };
  });

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
        const fns = readFunctions(manifest, { dir, source: source ?? '<stdin>' });
        if (fns.length === 0) {
          return reply.code(422).send({ error: 'InvalidManifest', problems: ['no kfn resources in the manifest'] });
        }
        return { results: applyFunctions(store, fns) };
      } catch (err) {
        if (err instanceof ManifestError) {
          return reply.code(422).send({ error: 'InvalidManifest', problems: err.problems });
        }
        throw err;
      }
    },
  );

  return app;
}

function notFound(p: { namespace: string; name: string }): { error: string; message: string } {
  return { error: 'NotFound', message: `function ${p.namespace}/${p.name} not found` };
}
