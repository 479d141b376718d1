// node:test's describe/it return promises that the runner itself awaits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManifestParseError, parseManifests } from '../../pkg/apis/manifest.js';

const fnDoc = (name: string): string => `apiVersion: kfn.dev/v1alpha1
kind: Function
metadata:
  name: ${name}
spec:
  image: ghcr.io/acme/${name}:1.0
`;

function problemsOf(text: string, source?: string): string[] {
  try {
    parseManifests(text, source);
  } catch (err) {
    assert.ok(err instanceof ManifestParseError, String(err));
    return err.problems.map((p) => `${p.source}#${p.index}: ${p.message}`);
  }
  assert.fail('parseManifests accepted it');
}

describe('parseManifests', () => {
  it('returns every document with its kind, source and position', () => {
    const docs = parseManifests(`${fnDoc('a')}---\n${fnDoc('b')}`, 'fns.yaml');
    assert.deepEqual(
      docs.map((d) => [d.kind, d.apiVersion, (d.object.metadata as { name: string }).name, d.source, d.index]),
      [
        ['Function', 'kfn.dev/v1alpha1', 'a', 'fns.yaml', 0],
        ['Function', 'kfn.dev/v1alpha1', 'b', 'fns.yaml', 1],
      ],
    );
  });

  it('skips empty and comment-only documents but counts them in the index', () => {
    // Documents: "# just a comment", "", the function, "".
    const docs = parseManifests(`---\n# just a comment\n---\n---\n${fnDoc('a')}---\n`, 'x.yaml');
    assert.deepEqual(docs.map((d) => d.index), [2]);
  });

  it('returns nothing for an empty file', () => {
    assert.deepEqual(parseManifests('', 'empty.yaml'), []);
    assert.deepEqual(parseManifests('# nothing here\n', 'empty.yaml'), []);
  });

  it('returns documents of other groups with their kind, for callers to ignore', () => {
    const docs = parseManifests(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\n${fnDoc('a')}`);
    assert.deepEqual(docs.map((d) => d.kind), ['ConfigMap', 'Function']);
    assert.equal(docs[0]?.source, '<input>');
  });

  it('rejects an unknown kfn.dev kind, naming the known ones', () => {
    assert.deepEqual(problemsOf('apiVersion: kfn.dev/v1alpha1\nkind: Functon\n', 'f.yaml'), [
      'f.yaml#0: unknown kind "Functon" in kfn.dev; known kinds: Function, Trigger',
    ]);
  });

  it('names the file, document and line of a YAML syntax error', () => {
    const [problem, ...rest] = problemsOf(`${fnDoc('a')}---\nspec: [unclosed\n`, 'bad.yaml');
    assert.equal(rest.length, 0);
    assert.match(problem ?? '', /^bad\.yaml#1: .*line \d+/);
  });

  it('puts every problem in the message, one per line, counting documents from 1', () => {
    const text = `kind: Function\n---\n- a\n- b\n---\napiVersion: v1\n`;
    assert.throws(() => parseManifests(text, 'm.yaml'), {
      name: 'ManifestParseError',
      message: [
        'm.yaml: document 1: apiVersion is missing',
        'm.yaml: document 2: must be a mapping with apiVersion and kind',
        'm.yaml: document 3: kind is missing',
      ].join('\n'),
    });
  });

  it('rejects duplicate keys instead of keeping the last one', () => {
    const [problem] = problemsOf(`${fnDoc('a')}spec:\n  image: other\n`, 'dup.yaml');
    assert.match(problem ?? '', /^dup\.yaml#0: .*[Uu]nique/);
  });

  it('refuses alias bombs', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) levels.push(`${'b'.repeat(i)}: &${'b'.repeat(i)} [${Array(10).fill(i === 1 ? '*a' : `*${'b'.repeat(i - 1)}`).join(', ')}]`);
    const [problem] = problemsOf(`apiVersion: v1\nkind: Bomb\n${levels.join('\n')}\n`, 'bomb.yaml');
    assert.match(problem ?? '', /^bomb\.yaml#0: .*[Aa]lias/);
  });

  it('reads YAML 1.2: yes and on are strings, as a Function env value expects', () => {
    const [doc] = parseManifests(`${fnDoc('a')}  env:\n    - name: FLAG\n      value: yes\n`);
    const spec = doc?.object.spec as { env: { value: unknown }[] };
    assert.equal(spec.env[0]?.value, 'yes');
  });
});
