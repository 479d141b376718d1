// The resource commands against a cluster, run as a user runs them: the built CLI as a
// child process, a kubeconfig file with two contexts, get/delete against the in-process
// API server double, and apply/invoke/logs against a real HTTP server that records the
// exact requests (the double has no server-side apply, service proxy or pod logs).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { kfn, tempHome } from './run.js';
import { sendJson, startRecordingServer, status, writeKubeconfig, type RecordingServer } from './fake-cluster.js';

const PROXY = '/api/v1/namespaces/kfn-system/services/kfn-activator:http/proxy';

function fnObject(ns: string, name: string, st: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name, namespace: ns }, spec: { image: 'ghcr.io/acme/hello:1' }, status: st };
}

function manifest(name: string, spec: Record<string, unknown> = {}, ns?: string): string {
  return JSON.stringify({ apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name, ...(ns ? { namespace: ns } : {}) }, spec: { image: 'ghcr.io/acme/hello:1', ...spec } }) + '\n';
}

describe('kfn against a cluster through the kubeconfig', () => {
  let api: ApiServer;
  let rec: RecordingServer;
  let home: string;
  let kubeconfig: string;
  const run = (args: string[], stdin?: string) => kfn(args, { home, env: { KUBECONFIG: kubeconfig }, ...(stdin === undefined ? {} : { stdin }) });

  before(async () => {
    api = await startApiServer();
    rec = await startRecordingServer();
    home = await tempHome();
    kubeconfig = await writeKubeconfig(
      home,
      [
        { name: 'double', server: api.url, token: 'kfn-test-token', namespace: 'team-a' },
        { name: 'rec', server: rec.url, token: 'rec-token', namespace: 'shop' },
      ],
      'double',
    );
    api.store.create('functions.kfn.dev', fnObject('team-a', 'hello', {
      url: 'http://hello.team-a.kfn.example.com',
      readyReplicas: 1,
      desiredReplicas: 1,
      conditions: [{ type: 'Ready', status: 'True' }],
    }));
    api.store.create('functions.kfn.dev', fnObject('team-a', 'broken', {
      readyReplicas: 0,
      desiredReplicas: 1,
      conditions: [{ type: 'Ready', status: 'False', reason: 'ImagePullBackOff', message: 'cannot pull ghcr.io/acme/hello:1' }],
    }));
    api.store.create('functions.kfn.dev', fnObject('team-b', 'other'));
  });
  after(async () => {
    await api.close();
    await rec.close();
  });
  beforeEach(() => {
    rec.requests.length = 0;
  });

  describe('get', () => {
    it('lists the functions of the context namespace with URL, READY, replicas and reason', async () => {
      const res = await run(['get']);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /NAMESPACE\s+NAME\s+URL\s+READY\s+REPLICAS\s+REASON\s+AGE/);
      assert.match(res.stdout, /team-a\s+hello\s+http:\/\/hello\.team-a\.kfn\.example\.com\s+True\s+1\/1/);
      assert.match(res.stdout, /team-a\s+broken\s+False\s+0\/1\s+ImagePullBackOff/);
      assert.doesNotMatch(res.stdout, /other/);
    });

    it('-n and -A choose the namespaces', async () => {
      const b = await run(['get', '-n', 'team-b']);
      assert.equal(b.code, 0, b.stderr);
      assert.match(b.stdout, /team-b\s+other/);
      assert.doesNotMatch(b.stdout, /hello/);
      const all = await run(['get', '-A']);
      assert.match(all.stdout, /hello/);
      assert.match(all.stdout, /other/);
    });

    it('one function in detail, with its conditions', async () => {
      const res = await run(['get', 'broken']);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /Name:\s+team-a\/broken/);
      assert.match(res.stdout, /Ready\s+False\s+ImagePullBackOff\s+cannot pull/);
    });

    it('an empty list says where it looked', async () => {
      const res = await run(['get', 'triggers']);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, `No triggers in namespace team-a (context double (${api.url})).\n`);
    });

    it('a missing function is one line naming it and the context', async () => {
      const res = await run(['get', 'nope']);
      assert.equal(res.code, 1);
      assert.equal(res.stderr, `kfn: function team-a/nope not found (context double (${api.url}))\n`);
    });

    it('--context selects the other cluster, its credentials and its namespace', async () => {
      rec.handle((_req, res) => sendJson(res, 200, { kind: 'FunctionList', apiVersion: 'kfn.dev/v1alpha1', items: [] }));
      const res = await run(['get', '--context', 'rec']);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(rec.requests.length, 1);
      assert.equal(rec.requests[0]?.path, '/apis/kfn.dev/v1alpha1/namespaces/shop/functions');
      assert.equal(rec.requests[0]?.headers.authorization, 'Bearer rec-token');
      assert.match(String(rec.requests[0]?.headers['user-agent']), /^kfn-cli\/\d+\.\d+\.\d+ /);
    });

    it('an unknown --context is one line listing the contexts there are', async () => {
      const res = await run(['get', '--context', 'nope']);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /^kfn: context "nope" is not in the kubeconfig \S+ \(contexts: double, rec\)\n$/);
    });

    it('a server that answers HTML (a gateway, not an API server) is one line, not a crash', async () => {
      rec.handle((_req, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'));
      const res = await run(['get', '--context', 'rec']);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /^kfn: cannot list functions \(context rec \(\S+\)\): the answer is not JSON \(HTTP 200, text\/html\); is the kubeconfig's server an API server\?\n$/);
    });

    it('a refused list gives the API server\'s message', async () => {
      rec.handle((_req, res) => sendJson(res, 403, status(403, 'Forbidden', 'functions.kfn.dev is forbidden: User "bob" cannot list resource "functions" in API group "kfn.dev" in the namespace "shop"')));
      const res = await run(['get', '--context', 'rec']);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /^kfn: cannot list functions \(context rec \(\S+\)\): functions\.kfn\.dev is forbidden: User "bob" cannot list resource "functions"/);
    });
  });

  describe('delete', () => {
    it('deletes the function from the cluster', async () => {
      api.store.create('functions.kfn.dev', fnObject('team-a', 'doomed'));
      const res = await run(['delete', 'doomed']);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, 'function.kfn.dev/doomed deleted\n');
      assert.equal(api.store.get('functions.kfn.dev', 'team-a', 'doomed'), undefined);
    });

    it('a missing trigger is an error naming it', async () => {
      const res = await run(['delete', 'trigger', 'nope']);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /kfn: trigger team-a\/nope not found/);
    });
  });

  describe('apply (server-side apply)', () => {
    it('sends one apply patch per resource, field manager kfn-cli, force=false, Functions first', async () => {
      rec.handle((req, res) => sendJson(res, 201, JSON.parse(req.body)));
      const file = path.join(home, 'pipeline.yaml');
      const trigger = 'apiVersion: kfn.dev/v1alpha1\nkind: Trigger\nmetadata:\n  name: on-order\nspec:\n  subject: orders.>\n  function: hello\n';
      await writeFile(file, `${trigger}---\n${manifest('hello', { containerConcurrency: 5 })}`);
      const res = await run(['apply', '-f', file, '--context', 'rec']);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, 'function.kfn.dev/hello created\ntrigger.kfn.dev/on-order created\n');
      assert.deepEqual(
        rec.requests.map((r) => [r.method, r.path, r.headers['content-type'], r.query]),
        [
          ['PATCH', '/apis/kfn.dev/v1alpha1/namespaces/shop/functions/hello', 'application/apply-patch+yaml', { fieldManager: 'kfn-cli', force: 'false' }],
          ['PATCH', '/apis/kfn.dev/v1alpha1/namespaces/shop/triggers/on-order', 'application/apply-patch+yaml', { fieldManager: 'kfn-cli', force: 'false' }],
        ],
      );
      assert.deepEqual(JSON.parse(rec.requests[0]?.body ?? ''), {
        apiVersion: 'kfn.dev/v1alpha1',
        kind: 'Function',
        metadata: { name: 'hello', namespace: 'shop' },
        spec: { image: 'ghcr.io/acme/hello:1', containerConcurrency: 5 },
      });
      assert.equal(rec.requests[0]?.headers.authorization, 'Bearer rec-token');
    });

    it('an update is reported as serverside-applied; -f - reads standard input', async () => {
      rec.handle((req, res) => sendJson(res, 200, JSON.parse(req.body)));
      const res = await run(['apply', '-f', '-', '--context', 'rec', '-n', 'shop'], manifest('hello'));
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, 'function.kfn.dev/hello serverside-applied\n');
    });

    it('a conflict names the other field manager, suggests --force-conflicts, and sends nothing after it', async () => {
      rec.handle((_req, res) =>
        sendJson(res, 409, status(409, 'Conflict', 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using kfn.dev/v1alpha1: .spec.image')),
      );
      const file = path.join(home, 'two.yaml');
      await writeFile(file, `${manifest('a')}---\n${manifest('b')}`);
      const res = await run(['apply', '-f', file, '--context', 'rec']);
      assert.equal(res.code, 1);
      assert.equal(rec.requests.length, 1, 'b was not sent');
      assert.match(res.stderr, /error: Function shop\/a: Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using kfn\.dev\/v1alpha1: \.spec\.image \(another field manager owns these fields: .*--force-conflicts/);
      assert.match(res.stderr, /error: not applied: function\.kfn\.dev\/b/);
    });

    it('--force-conflicts sends force=true', async () => {
      rec.handle((req, res) => sendJson(res, 200, JSON.parse(req.body)));
      const res = await run(['apply', '-f', '-', '--context', 'rec', '--force-conflicts'], manifest('a'));
      assert.equal(res.code, 0, res.stderr);
      assert.equal(rec.requests[0]?.query.force, 'true');
    });

    it('a refused write gives the API server\'s message, naming verb and resource', async () => {
      rec.handle((_req, res) => sendJson(res, 403, status(403, 'Forbidden', 'functions.kfn.dev "a" is forbidden: User "bob" cannot patch resource "functions" in API group "kfn.dev" in the namespace "shop"')));
      const res = await run(['apply', '-f', '-', '--context', 'rec'], manifest('a'));
      assert.equal(res.code, 1);
      assert.match(res.stderr, /error: Function shop\/a: functions\.kfn\.dev "a" is forbidden: User "bob" cannot patch resource "functions"/);
    });

    const refused: Array<{ name: string; text: string; want: RegExp }> = [
      { name: 'a bad field, next to a good document', text: `${manifest('good')}---\n${manifest('bad', { scale: { min: 3, max: 2 } })}`, want: /document 2: Function bad: spec\.scale\.max: must be >= spec\.scale\.min/ },
      { name: 'a kind other than Function and Trigger', text: `${manifest('good')}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n`, want: /kind ConfigMap \(v1\) is not a kfn resource/ },
    ];
    for (const row of refused) {
      it(`refuses ${row.name} before sending anything`, async () => {
        rec.handle((req, res) => sendJson(res, 201, JSON.parse(req.body)));
        const res = await run(['apply', '-f', '-', '--context', 'rec'], row.text);
        assert.equal(res.code, 1);
        assert.match(res.stderr, row.want);
        assert.match(res.stderr, /kfn: nothing was applied\n$/);
        assert.equal(rec.requests.length, 0);
      });
    }
  });

  describe('invoke (the API server\'s service proxy to the activator)', () => {
    it('requests the exact proxy path with the body and headers, and prints the function\'s answer', async () => {
      rec.handle((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-fn': 'yes' }).end(JSON.stringify({ got: req.body }));
      });
      const res = await run(['invoke', 'hello', '--context', 'rec', '--path', '/greet/you?lang=en', '-d', 'hi there', '-H', 'X-Request-Id: 42', '-H', 'Content-Type: text/plain', '-i']);
      assert.equal(res.code, 0, res.stderr);
      const r = rec.requests[0];
      assert.equal(r?.method, 'POST');
      assert.equal(r?.rawPath, `${PROXY}/shop/hello/greet/you`);
      assert.deepEqual(r?.query, { lang: 'en' });
      assert.equal(r?.body, 'hi there');
      assert.equal(r?.headers['x-request-id'], '42');
      assert.equal(r?.headers['content-type'], 'text/plain');
      assert.equal(r?.headers.authorization, 'Bearer rec-token', 'the kubeconfig credentials go to the API server');
      assert.match(res.stdout, /^HTTP 200 OK\n/);
      assert.match(res.stdout, /x-fn: yes\n/i);
      assert.match(res.stdout, /\n\n\{"got":"hi there"\}$/);
    });

    it('the function\'s own error status is printed and exits 1', async () => {
      rec.handle((_req, res) => void res.writeHead(500, { 'content-type': 'text/plain' }).end('boom'));
      const res = await run(['invoke', 'hello', '--context', 'rec']);
      assert.equal(res.code, 1);
      assert.equal(rec.requests[0]?.method, 'GET');
      assert.equal(rec.requests[0]?.rawPath, `${PROXY}/shop/hello/`);
      assert.equal(res.stdout, 'boom');
      assert.equal(res.stderr, 'kfn: HTTP 500\n');
    });

    it('the activator\'s own refusal (kfn\'s error envelope) is one line on stderr, not the body', async () => {
      const body = JSON.stringify({ error: { code: 'function_not_found', message: 'function shop/hello not found' } });
      rec.handle((_req, res) => void res.writeHead(404, { 'content-type': 'application/json' }).end(body));
      const res = await run(['invoke', 'hello', '--context', 'rec']);
      assert.equal(res.code, 1);
      assert.equal(res.stdout, '');
      assert.equal(res.stderr, 'kfn: HTTP 404 from kfn: function shop/hello not found (function_not_found)\n');
      // A function's own JSON error with a string `error` is the function's answer: printed as it came.
      rec.handle((_req, res) => void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not Found","message":"no such order"}'));
      const own = await run(['invoke', 'hello', '--context', 'rec']);
      assert.equal(own.stdout, '{"error":"Not Found","message":"no such order"}');
      assert.equal(own.stderr, 'kfn: HTTP 404\n');
    });

    it('the API server\'s own refusal is one line with its message', async () => {
      rec.handle((_req, res) => sendJson(res, 503, status(503, 'ServiceUnavailable', 'no endpoints available for service "kfn-activator:http"')));
      const res = await run(['invoke', 'hello', '--context', 'rec']);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /^kfn: the API server could not proxy to the activator \(context rec .*\): no endpoints available for service "kfn-activator:http"; is kfn installed/);
      rec.handle((_req, res) => sendJson(res, 404, status(404, 'NotFound', 'services "kfn-activator" not found')));
      const missing = await run(['invoke', 'hello', '--context', 'rec']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /: services "kfn-activator" not found; is kfn installed/);
      rec.handle((_req, res) =>
        sendJson(res, 403, status(403, 'Forbidden', 'services "kfn-activator:http" is forbidden: User "bob" cannot get resource "services/proxy" in API group "" in the namespace "kfn-system"')),
      );
      const forbidden = await run(['invoke', 'hello', '--context', 'rec']);
      assert.equal(forbidden.code, 1);
      assert.match(forbidden.stderr, /User "bob" cannot get resource "services\/proxy" in API group "" in the namespace "kfn-system"\n$/);
    });

    it('refuses what the proxy would change, sending nothing', async () => {
      for (const args of [['-H', 'Authorization: Bearer x'], ['--path', '/../../../secrets'], ['-H', 'Impersonate-User: admin']]) {
        const res = await run(['invoke', 'hello', '--context', 'rec', ...args]);
        assert.equal(res.code, 1, args.join(' '));
        assert.match(res.stderr, /^kfn: .*(Authorization|"\.\." segment|change of identity)/);
      }
      assert.equal(rec.requests.length, 0);
    });
  });

  describe('logs', () => {
    const pods = { kind: 'PodList', apiVersion: 'v1', items: [{ metadata: { name: 'hello-7d9-b' } }, { metadata: { name: 'hello-7d9-a' } }] };

    it('prints each pod\'s user-container lines prefixed with the pod', async () => {
      rec.handle((req, res) => {
        if (req.path === '/api/v1/namespaces/shop/pods') return sendJson(res, 200, pods);
        const pod = /pods\/([^/]+)\/log$/.exec(req.path)?.[1];
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`${pod} one\n${pod} two`);
      });
      const res = await run(['logs', 'hello', '--context', 'rec', '--since', '5m', '--tail', '20']);
      assert.equal(res.code, 0, res.stderr);
      const lines = res.stdout.trimEnd().split('\n').sort();
      assert.deepEqual(lines, ['[hello-7d9-a] hello-7d9-a one', '[hello-7d9-a] hello-7d9-a two', '[hello-7d9-b] hello-7d9-b one', '[hello-7d9-b] hello-7d9-b two']);
      assert.deepEqual(rec.requests[0]?.query, { labelSelector: 'kfn.dev/function=hello' });
      const logReq = rec.requests.find((r) => r.path.endsWith('/hello-7d9-a/log'));
      assert.deepEqual(logReq?.query, { container: 'user-container', follow: 'false', sinceSeconds: '300', tailLines: '20' });
    });

    it('-f follows: lines are printed as they come, until the streams end', async () => {
      rec.handle((req, res) => {
        if (req.path.endsWith('/pods')) return sendJson(res, 200, { items: [{ metadata: { name: 'p1' } }] });
        assert.equal(req.query.follow, 'true');
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first\n');
        setTimeout(() => res.end('second\n'), 50);
      });
      const res = await run(['logs', 'hello', '--context', 'rec', '-f']);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, '[p1] first\n[p1] second\n');
    });

    it('one pod refused (still starting) is a warning; the others are printed', async () => {
      rec.handle((req, res) => {
        if (req.path.endsWith('/pods')) return sendJson(res, 200, pods);
        if (req.path.includes('hello-7d9-b')) return sendJson(res, 400, status(400, 'BadRequest', 'container "user-container" in pod "hello-7d9-b" is waiting to start: ContainerCreating'));
        res.writeHead(200).end('ok\n');
      });
      const res = await run(['logs', 'hello', '--context', 'rec']);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, '[hello-7d9-a] ok\n');
      assert.match(res.stderr, /\[hello-7d9-b\] container "user-container" in pod "hello-7d9-b" is waiting to start: ContainerCreating/);
    });

    it('no pods: says the function is scaled to zero', async () => {
      rec.handle((_req, res) => sendJson(res, 200, { items: [] }));
      const res = await run(['logs', 'hello', '--context', 'rec']);
      assert.equal(res.code, 0);
      assert.match(res.stderr, /function shop\/hello has no pods .*scaled to zero/);
    });
  });
});

describe('which backend the CLI uses', () => {
  it('neither kfn dev nor a kubeconfig: one line saying so, exit 1', async () => {
    const home = await tempHome();
    const res = await kfn(['get'], { home });
    assert.equal(res.code, 1);
    assert.equal(res.stderr, 'kfn: kfn dev is not running (start it with `kfn dev`) and no kubeconfig found (--kubeconfig, KUBECONFIG or ~/.kube/config)\n');
  });

  it('a dev.json left by a kfn dev that is gone is ignored: the kubeconfig\'s cluster is used', async () => {
    const home = await tempHome();
    const api = await startApiServer();
    try {
      // This test runner's pid is alive but is no kfn dev.
      await writeFile(path.join(home, 'dev.json'), JSON.stringify({ pid: process.pid, admin: 'http://127.0.0.1:1', activator: 'http://127.0.0.1:1' }));
      const kubeconfig = await writeKubeconfig(home, [{ name: 'c', server: api.url, token: 'kfn-test-token' }], 'c');
      api.store.create('functions.kfn.dev', fnObject('default', 'from-cluster'));
      const res = await kfn(['get'], { home, env: { KUBECONFIG: kubeconfig } });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /default\s+from-cluster/);
    } finally {
      await api.close();
    }
  });

  it('kfn logs against kfn dev says it is not available there yet', async () => {
    const res = await kfn(['logs', 'hello', '--dev'], { home: await tempHome() });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^kfn: kfn logs is not available in kfn dev yet/);
  });
});
