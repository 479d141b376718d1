// Property: for any one edit of a manifest both sides accept (any value at any field, a
// field or entry removed, a field added), the validator (kfn dev, and the controller)
// accepts the result exactly when the API server would,
// as modelled by ajv over the generated CRD plus its CEL rules (./crd-model.ts). The
// validator reads its bounds from the same schema; this proves it applies them the way
// the API server does: types, patterns, lengths, enums, ranges, null as unset, and the
// CEL rules across fields, with real neighbours around the changed field.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { functionSpecSchema } from '../../pkg/apis/function/schema.js';
import { validateFunction } from '../../pkg/apis/function/validation.js';
import { triggerSpecSchema } from '../../pkg/apis/trigger/schema.js';
import { validateTrigger } from '../../pkg/apis/trigger/validation.js';
import type { StructuralSchema } from '../../pkg/apis/schema.js';
import type { FieldError } from '../../pkg/apis/meta.js';
import { loadCrd, loadFixtures } from './crd-model.js';

type Path = (string | number)[];

/** Every path to a scalar in `v`: the fields a person edits. */
function leaves(v: unknown, at: Path = []): Path[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => leaves(x, [...at, i]));
  if (typeof v === 'object' && v !== null) return Object.entries(v).flatMap(([k, x]) => leaves(x, [...at, k]));
  return [at];
}

/** The schema node at a path below spec. */
function nodeAt(s: StructuralSchema | undefined, path: Path): StructuralSchema | undefined {
  let at = s;
  for (const p of path) at = typeof p === 'number' ? at?.items : (at?.properties?.[p] ?? at?.additionalProperties);
  return at;
}

/** Every path to a mapping in `v` (its own included): where a field can be added. */
function mappings(v: unknown, at: Path = []): Path[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => mappings(x, [...at, i]));
  if (typeof v === 'object' && v !== null) return [at, ...Object.entries(v).flatMap(([k, x]) => mappings(x, [...at, k]))];
  return [];
}

type Edit = { set: Path; value: unknown } | { remove: Path } | { add: Path; key: string; value: unknown };

function edited(manifest: unknown, edit: Edit): unknown {
  const copy = structuredClone(manifest) as Record<string | number, unknown>;
  const path = 'set' in edit ? edit.set : 'remove' in edit ? edit.remove : [...edit.add, edit.key];
  let at: Record<string | number, unknown> = copy;
  for (const p of path.slice(0, -1)) at = at[p] as Record<string | number, unknown>;
  const last = path[path.length - 1] ?? '';
  if ('remove' in edit) {
    if (Array.isArray(at) && typeof last === 'number') at.splice(last, 1);
    else delete at[last];
  } else at[last] = edit.value;
  return copy;
}

/** Values a person (or a hostile manifest) may put anywhere, biased to the node's own edges. */
function valuesFor(node: StructuralSchema | undefined): fc.Arbitrary<unknown> {
  const edges: unknown[] = [null, '', 0, -1, 1.5, true, [], {}];
  if (node?.maxLength !== undefined) edges.push('a'.repeat(node.maxLength), 'a'.repeat(node.maxLength + 1), '1'.repeat(node.maxLength + 1));
  for (const b of [node?.minimum, node?.maximum]) if (b !== undefined) edges.push(b - 1, b, b + 0.5, b + 1);
  for (const e of node?.enum ?? []) edges.push(e, `${e}x`);
  const own = node?.pattern ? [fc.stringMatching(new RegExp(node.pattern), { maxLength: 40 })] : [];
  return fc.oneof(
    fc.constantFrom(...edges),
    ...own,
    fc.string({ maxLength: 12 }),
    fc.constantFrom('/a/../b', 'a/b', '/x', '$JS.x', '_INBOX.a', 'a.*', 'a.>', '500m', '1Gi', '1h', '61m', 'orders.x.created'),
    fc.integer({ min: -3, max: 70000 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  );
}

interface Kind {
  name: string;
  crd: string;
  fixtures: string;
  spec: StructuralSchema;
  validate: (m: unknown) => FieldError[];
  /** True when the validator refuses `m` for a rule the CRD leaves to the controller. */
  controllerOnly: (m: unknown, errors: FieldError[]) => boolean;
}

const kinds: Kind[] = [
  {
    name: 'Function',
    crd: 'config/200-crd-function.yaml',
    fixtures: 'test/apis/fixtures',
    spec: functionSpecSchema,
    validate: validateFunction,
    // Only map keys and the annotation bytes are the controller's, and only values change here.
    controllerOnly: () => false,
  },
  {
    name: 'Trigger',
    crd: 'config/210-crd-trigger.yaml',
    fixtures: 'test/apis/trigger/fixtures',
    spec: triggerSpecSchema,
    validate: validateTrigger,
    // A reply or dead-letter subject matched by spec.subject (a loop): the CRD cannot afford that rule.
    controllerOnly: (_m, errors) => errors.every((e) => e.message.startsWith('must not be matched by spec.subject')),
  },
];

for (const kind of kinds) {
  const { crdErrors } = loadCrd(kind.crd);
  describe(`${kind.name}: the validator and the CRD agree after any one edit`, () => {
    for (const { file, manifest } of loadFixtures(kind.fixtures, 'valid')) {
      const spec = (manifest as { spec: unknown }).spec;
      const paths = leaves(spec).map((p) => ['spec', ...p]);
      const objects = mappings(spec).map((p) => ['spec', ...p]);
      // Set any value at a field, remove a field or a list entry, or add a field (known or not).
      const edit: fc.Arbitrary<Edit> = fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...paths).chain((path) => valuesFor(nodeAt(kind.spec, path.slice(1))).map((value) => ({ set: path, value }))) },
        { weight: 1, arbitrary: fc.constantFrom(...paths, ...objects.filter((p) => p.length > 1)).map((path) => ({ remove: path })) },
        {
          weight: 1,
          arbitrary: fc.record({
            add: fc.constantFrom(...objects),
            key: fc.constantFrom('zz', 'image', 'name', 'subject', 'max', 'port', 'hostPath', 'privileged', 'key'),
            value: fc.constantFrom<unknown>('x', 1, {}, [], null, true, 'hostPath'),
          }),
        },
      );
      it(`valid/${file}: any edit of any of its ${paths.length} fields`, () => {
        assert.ok(paths.length > 0);
        fc.assert(
          fc.property(edit, (e) => {
            const m = edited(manifest, e);
            const ts = kind.validate(m);
            const crd = crdErrors(m);
            if (ts.length > 0 && crd.length === 0 && kind.controllerOnly(m, ts)) return;
            assert.equal(ts.length === 0, crd.length === 0, `${JSON.stringify(e)}: validator ${JSON.stringify(ts)}; CRD ${JSON.stringify(crd)}`);
          }),
          { numRuns: Math.min(20 * paths.length, 1500) },
        );
      });
    }
  });
}
