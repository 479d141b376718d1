// A real kube-apiserver refuses a CRD whose CEL rules it cannot bound: it estimates each
// rule's worst-case cost from the schema's maxLength/maxItems/maxProperties and refuses
// the CRD when a rule (or the schema's total) exceeds the budget. One kind of rule can
// never be bounded: a regular expression built at run time from the object (`matches`
// with a computed pattern), because the pattern's size, and so the cost of compiling
// and running it, depends on the data. kfn once shipped two such rules, and the API
// server refused the Trigger CRD (issue 10, item 1).
//
// This is a guard, not the proof: the proof is installing config/ on a real API server
// (test/envtest/). The guard fails fast, without one, on the one shape known to fail.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadCrd, type K8sSchema } from './crd-model.js';

/** Every CEL rule in the schema, with the path of the node it sits on. */
function rulesOf(schema: K8sSchema, at = ''): { at: string; rule: string }[] {
  const own = (schema['x-kubernetes-validations'] ?? []).map(({ rule }) => ({ at: at || '<root>', rule }));
  const props = Object.entries(schema.properties ?? {}).flatMap(([k, s]) => rulesOf(s, at ? `${at}.${k}` : k));
  const items = schema.items ? rulesOf(schema.items, `${at}[*]`) : [];
  const extra = typeof schema.additionalProperties === 'object' ? rulesOf(schema.additionalProperties, `${at}.*`) : [];
  return [...own, ...props, ...items, ...extra];
}

/** `.matches(` whose argument is not one string literal (plain or raw, either quote). */
const COMPUTED_MATCH = /\.matches\(\s*(?!(?:r?'(?:[^'\\]|\\.)*'|r?"(?:[^"\\]|\\.)*")\s*\))/;

describe('CRD rules the API server can bound', () => {
  it('spots a computed pattern and lets a literal one through (the guard itself)', () => {
    assert.ok(COMPUTED_MATCH.test("self.r.matches('^' + self.s + '$')"));
    assert.ok(COMPUTED_MATCH.test('self.r.matches(self.s)'));
    assert.ok(!COMPUTED_MATCH.test("self.matches('^[a-z]+$')"));
    assert.ok(!COMPUTED_MATCH.test("self.matches(r'^([0-9]+(\\.[0-9]+)?(ms|s))+$') && x"));
    assert.ok(!COMPUTED_MATCH.test('self.matches("(^|[.])[*>]([.]|$)")'));
  });

  for (const file of ['config/200-crd-function.yaml', 'config/210-crd-trigger.yaml']) {
    it(`${file}: every matches() takes a literal pattern`, () => {
      const { root } = loadCrd(file);
      const rules = rulesOf(root);
      assert.ok(rules.length > 0, 'no rules found: the walker is broken');
      const computed = rules.filter(({ rule }) => COMPUTED_MATCH.test(rule));
      assert.deepEqual(computed, [], 'rules that build a regular expression from the object');
    });
  }
});
