// The API server path `kfn invoke` calls on a cluster, and what it refuses to send: the
// service proxy would clean a dot segment into another path (even another API call),
// and Authorization/Impersonate-*/Host belong to the API server.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { ACTIVATOR_NAMESPACE, ACTIVATOR_PORT_NAME, ACTIVATOR_SERVICE, activatorProxyPath, refusedProxyHeader } from '../../cmd/kfn/cluster/proxy.js';
import { repoRoot } from './run.js';

const BASE = '/api/v1/namespaces/kfn-system/services/kfn-activator:http/proxy';

describe('activatorProxyPath', () => {
  const ok: Array<[string, string, string, string]> = [
    ['root', '/', `${BASE}/default/hello/`, 'default'],
    ['a sub-path', '/greet/you', `${BASE}/default/hello/greet/you`, 'default'],
    ['a query, kept', '/q?a=1&b=x/y', `${BASE}/default/hello/q?a=1&b=x/y`, 'default'],
    ['a space, encoded', '/a b', `${BASE}/default/hello/a%20b`, 'default'],
    ['already encoded, kept', '/a%20b', `${BASE}/default/hello/a%20b`, 'default'],
    ['non-ASCII, encoded', '/é', `${BASE}/default/hello/%C3%A9`, 'default'],
    ['another namespace', '/', `${BASE}/shop/hello/`, 'shop'],
  ];
  for (const [name, p, want, ns] of ok) it(`${name}: ${p}`, () => assert.equal(activatorProxyPath(ns, 'hello', p), want));

  const refused: Array<[string, string, string, RegExp]> = [
    ['a .. segment (would climb out of the proxy path)', 'default', '/../../../secrets', /a "\.\." segment would be resolved by the API server's proxy/],
    ['an encoded .. segment', 'default', '/%2e%2e/x', /a "\.\." segment/],
    ['a . segment', 'default', '/./x', /a "\." segment/],
    ['an encoded slash', 'default', '/a%2Fb', /encoded '\/'/],
    ['a namespace that is no DNS label', '../kube-system', '/', /namespace "\.\.\/kube-system" is not a DNS label/],
    ['a path without a leading slash', 'default', 'x', /must start with \//],
  ];
  for (const [name, ns, p, want] of refused) it(`refuses ${name}`, () => assert.throws(() => activatorProxyPath(ns, 'hello', p), want));

  it('refuses a function name that is no DNS label', () => assert.throws(() => activatorProxyPath('default', 'Hello', '/'), /function name "Hello" is not a DNS label/));

  it('names the Service and port config/400-activator.yaml installs', async () => {
    const docs = parseAllDocuments(await readFile(path.join(repoRoot, 'config', '400-activator.yaml'), 'utf8')).map((d) => d.toJS() as { kind?: string; metadata?: { name?: string; namespace?: string }; spec?: { ports?: Array<{ name?: string }> } });
    const svc = docs.find((d) => d?.kind === 'Service');
    assert.equal(svc?.metadata?.name, ACTIVATOR_SERVICE);
    assert.equal(svc?.metadata?.namespace, ACTIVATOR_NAMESPACE);
    assert.ok(svc?.spec?.ports?.some((p) => p.name === ACTIVATOR_PORT_NAME));
  });
});

describe('refusedProxyHeader', () => {
  for (const h of ['Authorization', 'authorization', 'Impersonate-User', 'impersonate-group', 'Host']) it(`refuses ${h}`, () => assert.ok(refusedProxyHeader(h)));
  for (const h of ['Content-Type', 'X-Request-Id', 'Cookie']) it(`lets ${h} through`, () => assert.equal(refusedProxyHeader(h), undefined));
});
