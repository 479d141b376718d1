// Every request a component makes names it and kfn's version in the User-Agent, against
// real HTTP servers on port 0: the Kubernetes API server (a list through a generated
// client, the watch an informer keeps open, a merge patch of the scale subresource), the
// autoscaler (the activator's stats) and the activator (the dispatcher's deliveries).
// Without it client-node sends node-fetch's default, and the API server's audit log and
// managedFields (whose manager defaults to the User-Agent up to its first "/") show
// `node-fetch` for every component.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HttpStatSink } from '../../pkg/autoscaler/http.js';
import { UserAgentKubeConfig } from '../../pkg/controller/kubeconfig.js';
import { httpDeliverer } from '../../pkg/events/dispatcher/deliver-http.js';
import { functionInformer } from '../../pkg/platform/kubernetes/functions.js';
import { KubernetesScale } from '../../pkg/platform/kubernetes/scale.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { kfnVersion, userAgent } from '../../pkg/shared/user-agent.js';
import { waitFor } from '../util/wait.js';

interface Seen {
  method: string;
  path: string;
  watch: boolean;
  userAgent: string | undefined;
}

/** Answers lists with nothing, holds watches open, accepts anything else; records every request. */
async function recordingServer(): Promise<{ server: Server; url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const watch = url.searchParams.get('watch') === 'true';
    seen.push({ method: req.method ?? '', path: url.pathname, watch, userAgent: req.headers['user-agent'] });
    req.resume();
    if (watch) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.method === 'GET' ? { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '1' }, items: [] } : { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'hello' }, spec: { replicas: 1 } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('User-Agent', () => {
  let api: Awaited<ReturnType<typeof recordingServer>>;
  before(async () => {
    api = await recordingServer();
  });
  after(async () => {
    api.server.closeAllConnections();
    await new Promise((resolve) => api.server.close(resolve));
  });

  it("names the component, kfn's version from package.json, the platform and node", () => {
    // From test/cmd/ under tsx, from dist/test/cmd/ once built.
    const fromSource = import.meta.url.endsWith('.ts');
    const pkg = JSON.parse(readFileSync(new URL(fromSource ? '../../package.json' : '../../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(kfnVersion(), pkg.version);
    assert.equal(userAgent('kfn-controller'), `kfn-controller/${pkg.version} (${process.platform}/${process.arch}) node/${process.version}`);
    // The API server's default field manager is the User-Agent up to its first "/".
    assert.equal(userAgent('kfn-controller').split('/')[0], 'kfn-controller');
  });

  it('goes with every Kubernetes request: the list and the watch of an informer, and a patch', async () => {
    const ua = userAgent('kfn-autoscaler');
    const kc = new UserAgentKubeConfig(ua);
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: api.url, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const stop = new AbortController();
    const informer = functionInformer(kc, quietLogger(), { upsert: () => undefined, remove: () => undefined });
    const running = informer.start(stop.signal);
    try {
      await informer.synced;
      await waitFor('the watch', () => api.seen.some((s) => s.watch));
      await new KubernetesScale(kc).setScale({ namespace: 'main', name: 'hello' }, 1);
    } finally {
      stop.abort();
      await running;
    }
    const list = api.seen.find((s) => s.method === 'GET' && !s.watch);
    const watch = api.seen.find((s) => s.watch);
    const patch = api.seen.find((s) => s.method === 'PATCH');
    assert.equal(list?.userAgent, ua, 'list');
    assert.equal(watch?.userAgent, ua, 'watch');
    assert.equal(patch?.userAgent, ua, 'patch');
    assert.ok(api.seen.every((s) => s.userAgent === ua), JSON.stringify(api.seen));
  });

  it("goes with the activator's stats to the autoscaler and the dispatcher's deliveries", async () => {
    const seen: Array<string | undefined> = [];
    const server = createServer((req, res) => {
      seen.push(req.headers['user-agent']);
      req.resume();
      req.on('end', () => res.end('{}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const sink = new HttpStatSink(url, { log: quietLogger(), userAgent: userAgent('kfn-activator') });
      sink.poke({ namespace: 'main', name: 'hello' });
      await sink.close();
      const deliver = httpDeliverer(url, { userAgent: userAgent('kfn-dispatcher') });
      const res = await deliver({
        key: { namespace: 'main', name: 'hello' },
        path: '/',
        event: { attributes: { specversion: '1.0', id: '1', source: '/s', type: 't' }, data: Buffer.from('x') },
        timeoutMs: 5000,
        signal: new AbortController().signal,
      });
      assert.ok('status' in res, JSON.stringify(res));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    assert.deepEqual(seen, [userAgent('kfn-activator'), userAgent('kfn-dispatcher')]);
  });
});
