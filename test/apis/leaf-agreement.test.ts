// Property: for any value put at any one field of a manifest both sides accept, the
// validator (kfn dev, and the controller) accepts it exactly when the API server would,
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

function withValue(manifest: unknown, path: Path, value: unknown): unknown {
  const copy = structuredClone(manifest) as Record<string | number, unknown>;
  let at: Record<string | number, unknown> = copy;
  for (const p of path.slice(0, -1)) at = at[p] as Record<string | number, unknown>;
  at[path[path.length - 1] ?? ''] = value;
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
  describe(`${kind.name}: the validator and the CRD agree on any value at any field`, () => {
    for (const { file, manifest } of loadFixtures(kind.fixtures, 'valid')) {
      const paths = leaves((manifest as { spec: unknown }).spec).map((p) => ['spec', ...p]);
      it(`valid/${file}: any value at any of its ${paths.length} fields`, () => {
        assert.ok(paths.length > 0);
        fc.assert(
          fc.property(
            fc.constantFrom(...paths).chain((path) => fc.tuple(fc.constant(path), valuesFor(nodeAt(kind.spec, path.slice(1))))),
            ([path, value]) => {
              const m = withValue(manifest, path, value);
              const ts = kind.validate(m);
              const crd = crdErrors(m);
              const where = `${path.join('.')} = ${JSON.stringify(value)}`;
              if (ts.length > 0 && crd.length === 0 && kind.controllerOnly(m, ts)) return;
              assert.equal(ts.length === 0, crd.length === 0, `${where}: validator ${JSON.stringify(ts)}; CRD ${JSON.stringify(crd)}`);
            },
          ),
          { numRuns: Math.min(20 * paths.length, 1500) },
        );
      });
    }
  });
}
