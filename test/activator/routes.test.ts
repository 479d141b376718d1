import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RouteTable } from '../../pkg/activator/routes.js';
import { hello, messageOf, send, startActivator, startReplica, type Harness, type TestReplica } from './helpers.js';

function table(domain?: string): RouteTable {
  const t = new RouteTable(domain);
  t.upsert(hello, { containerConcurrency: 0, timeoutMs: 300_000 });
  t.upsert({ namespace: 'prod', name: 'api' }, { containerConcurrency: 4, timeoutMs: 10_000 });
  return t;
}

describe('RouteTable.resolve', () => {
  const rows: Array<{ name: string; host?: string; url: string; want?: { id: string; path: string }; domain?: string }> = [
    { name: 'host with default domain', host: 'hello.default.kfn.local', url: '/a?b=1', want: { id: 'default/hello', path: '/a?b=1' } },
    { name: 'host with port', host: 'hello.default.kfn.local:8080', url: '/', want: { id: 'default/hello', path: '/' } },
    { name: 'host in upper case', host: 'Hello.Default.KFN.local', url: '/', want: { id: 'default/hello', path: '/' } },
    { name: 'host with trailing dot', host: 'hello.default.kfn.local.', url: '/', want: { id: 'default/hello', path: '/' } },
    { name: 'short host name.namespace', host: 'hello.default', url: '/x', want: { id: 'default/hello', path: '/x' } },
    { name: 'cluster host .svc', host: 'api.prod.svc', url: '/', want: { id: 'prod/api', path: '/' } },
    { name: 'cluster host .svc.cluster.local with port', host: 'api.prod.svc.cluster.local:80', url: '/v1', want: { id: 'prod/api', path: '/v1' } },
    { name: 'configured domain', host: 'api.prod.example.com', url: '/', domain: 'example.com', want: { id: 'prod/api', path: '/' } },
    { name: 'other domain is not a function host', host: 'api.prod.example.com', url: '/' },
    { name: 'path route, bare', host: 'localhost:8080', url: '/default/hello', want: { id: 'default/hello', path: '/' } },
    { name: 'path route, trailing slash', host: '127.0.0.1', url: '/default/hello/', want: { id: 'default/hello', path: '/' } },
    { name: 'path route with rest and query', host: 'localhost', url: '/default/hello/a?b=1', want: { id: 'default/hello', path: '/a?b=1' } },
    { name: 'path route with query only', host: 'localhost', url: '/default/hello?b=1', want: { id: 'default/hello', path: '/?b=1' } },
    { name: 'path route without host (HTTP/1.0)', url: '/prod/api/x', want: { id: 'prod/api', path: '/x' } },
    { name: 'unknown function-shaped host falls back to path', host: 'activator.kfn-system.svc', url: '/default/hello/', want: { id: 'default/hello', path: '/' } },
    { name: 'known host wins over path', host: 'api.prod.kfn.local', url: '/default/hello/', want: { id: 'prod/api', path: '/default/hello/' } },
    { name: 'absolute-form target uses its authority', host: 'ignored', url: 'http://hello.default.kfn.local/z?q', want: { id: 'default/hello', path: '/z?q' } },
    { name: 'unknown host and path', host: 'nope.default.kfn.local', url: '/default/nope' },
    { name: 'one path segment', host: 'localhost', url: '/default' },
    { name: 'prefix of a name is not the name', host: 'localhost', url: '/default/hell' },
    { name: 'name prefix with more characters', host: 'localhost', url: '/default/hellox/' },
    { name: 'IPv6 host', host: '[::1]:8080', url: '/default/hello', want: { id: 'default/hello', path: '/' } },
    { name: 'asterisk target', host: 'hello.default.kfn.local', url: '*' },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const got = table(row.domain).resolve(row.host, row.url);
      if (!row.want) return assert.equal(got, undefined);
      assert.ok(got, 'expected a route');
      assert.equal(got.route.id, row.want.id);
      assert.equal(got.path, row.want.path);
      assert.equal(`${got.key.namespace}/${got.key.name}`, row.want.id);
    });
  }

  it('forgets removed functions and updates config in place', () => {
    const t = table();
    const r = t.upsert(hello, { containerConcurrency: 7, timeoutMs: 1000 });
    assert.equal(t.resolve('hello.default', '/')?.route.containerConcurrency, 7);
    assert.equal(r, t.get('default/hello'));
    assert.equal(t.remove(hello), true);
    assert.equal(t.resolve('hello.default', '/'), undefined);
    assert.equal(t.size, 1);
  });
});

describe('RouteTable.describeMiss', () => {
  const rows = [
    { host: 'nope.default.kfn.local', url: '/', want: 'function default/nope not found' },
    { host: 'localhost', url: '/team/missing/x', want: 'function team/missing not found' },
    { host: 'localhost', url: '/', want: /no function for host "localhost" and path "\/"/ },
  ];
  for (const row of rows) {
    it(`${row.host} ${row.url}`, () => {
      const got = table().describeMiss(row.host, row.url);
      if (typeof row.want === 'string') assert.equal(got, row.want);
      else assert.match(got, row.want);
    });
  }
});

describe('routing over HTTP', () => {
  let h: Harness;
  let replica: TestReplica;
  before(async () => {
    h = await startActivator();
    replica = await startReplica('r1');
    h.act.upsertFunction(hello, { containerConcurrency: 0, timeoutSeconds: 5 });
    h.act.updateEndpoints({ key: hello, endpoints: [replica.endpoint()] });
  });
  after(async () => {
    await h.close();
    await replica.close();
  });

  it('routes by Host and keeps the path', async () => {
    const r = await send(h.port, { path: '/a/b?c=1', headers: { host: 'hello.default.kfn.local' } });
    assert.equal(r.status, 200);
    assert.equal(r.json().url, '/a/b?c=1');
  });

  it('routes by path and strips the function prefix', async () => {
    const r = await send(h.port, { path: '/default/hello/a?b=1' });
    assert.equal(r.status, 200);
    assert.equal(r.json().url, '/a?b=1');
    const bare = await send(h.port, { path: '/default/hello' });
    assert.equal(bare.json().url, '/');
  });

  it('answers 404 naming an unknown function', async () => {
    const byHost = await send(h.port, { path: '/', headers: { host: 'ghost.default.kfn.local' } });
    assert.equal(byHost.status, 404);
    assert.deepEqual(byHost.json(), { error: { code: 'function_not_found', message: 'function default/ghost not found' } });
    const byPath = await send(h.port, { path: '/team/ghost/' });
    assert.equal(byPath.status, 404);
    assert.match(messageOf(byPath), /team\/ghost/);
    // Counted without the requested name as a label: clients could invent any number of them.
    assert.match(await h.registry.metrics(), /kfn_activator_requests_total\{namespace="",name="",code="404"\} 2/);
  });

  it('stops routing a removed function', async () => {
    const other = { namespace: 'default', name: 'gone' };
    h.act.upsertFunction(other, {});
    h.act.updateEndpoints({ key: other, endpoints: [replica.endpoint()] });
    assert.equal((await send(h.port, { path: '/default/gone/' })).status, 200);
    h.act.removeFunction(other);
    const r = await send(h.port, { path: '/default/gone/' });
    assert.equal(r.status, 404);
    assert.match(r.text, /default\/gone/);
  });
});
