// `kfn apply` on a cluster validates every document of every file before it sends any:
// a bad one fails with the field named and leaves no patch to send.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planApply } from '../../cmd/kfn/cluster/apply.js';

const fn = (name: string, extra: Record<string, unknown> = {}, ns?: string): string =>
  JSON.stringify({ apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name, ...(ns ? { namespace: ns } : {}) }, spec: { image: 'ghcr.io/acme/hello:1', ...extra } });
const trigger = (name: string): string => `apiVersion: kfn.dev/v1alpha1\nkind: Trigger\nmetadata:\n  name: ${name}\nspec:\n  subject: orders.>\n  function: hello\n`;
const src = (text: string, source = 'f.yaml') => ({ source, dir: '/', text });
const plan = (texts: string[], namespace?: string) => planApply(texts.map((t, i) => src(t, `f${i}.yaml`)), { namespace, defaultNamespace: 'team' });

describe('planApply', () => {
  it('multi-document YAML: Functions first, then Triggers, in the context namespace', () => {
    const p = plan([`${trigger('on-order')}---\n${fn('hello')}`]);
    assert.deepEqual(p.problems, []);
    assert.deepEqual(p.patches.map((x) => `${x.kind} ${x.namespace}/${x.name}`), ['Function team/hello', 'Trigger team/on-order']);
    assert.deepEqual(p.patches[0]?.object, { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'hello', namespace: 'team' }, spec: { image: 'ghcr.io/acme/hello:1' } });
  });

  it('-n fills in documents without a namespace', () => assert.equal(plan([fn('a')], 'shop').patches[0]?.namespace, 'shop'));
  it('a document\'s own namespace wins over the context', () => assert.equal(plan([fn('a', {}, 'other')]).patches[0]?.namespace, 'other'));

  it('sends neither status nor defaults: only what the manifest sets is owned by kfn-cli', () => {
    const text = JSON.stringify({ apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'a' }, spec: { image: 'x', port: null }, status: { url: 'http://forged' } });
    assert.deepEqual(plan([text]).patches[0]?.object, { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'a', namespace: 'team' }, spec: { image: 'x' } });
  });

  const bad: Array<{ name: string; texts: string[]; namespace?: string; want: RegExp }> = [
    { name: 'a field error, named, and the good document beside it is not planned', texts: [`${fn('good')}\n---\n${fn('bad', { scale: { min: 3, max: 2 } })}`], want: /f0\.yaml: document 2: Function bad: spec\.scale\.max: must be >= spec\.scale\.min/ },
    { name: 'a bad file makes a good file wait too', texts: [fn('good'), fn('bad', { port: 70000 })], want: /f1\.yaml: document 1: Function bad: spec\.port/ },
    { name: 'another kind', texts: ['apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n'], want: /kind Deployment \(apps\/v1\) is not a kfn resource; kfn apply takes Function and Trigger only/ },
    { name: 'an unknown kfn.dev kind', texts: ['apiVersion: kfn.dev/v1alpha1\nkind: Broker\nmetadata:\n  name: x\n'], want: /unknown kind "Broker" in kfn\.dev/ },
    { name: 'a YAML syntax error', texts: ['a: [1,'], want: /f0\.yaml: document 1:/ },
    { name: 'a namespace other than -n', texts: [fn('a', {}, 'other')], namespace: 'shop', want: /in namespace other, not shop given with -n/ },
    { name: 'the same Function twice', texts: [fn('a'), fn('a')], want: /Function team\/a is defined twice/ },
    { name: 'an empty file', texts: [''], want: /f0\.yaml: no documents/ },
    { name: 'a Trigger without a subject', texts: ['apiVersion: kfn.dev/v1alpha1\nkind: Trigger\nmetadata:\n  name: t\nspec:\n  function: f\n'], want: /Trigger t: spec\.subject: required/ },
  ];
  for (const row of bad) {
    it(`refuses ${row.name}, planning nothing`, () => {
      const p = plan(row.texts, row.namespace);
      assert.deepEqual(p.patches, []);
      assert.match(p.problems.join('\n'), row.want);
    });
  }
});
