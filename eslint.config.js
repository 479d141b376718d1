// Type-aware lint: the rules that matter most here are the promise ones, because a
// floating promise in a proxy or a delivery loop is a lost request or a lost event.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import tseslint from 'typescript-eslint';

// Import boundaries. Each folder of pkg/ may import only the folders listed for it (and
// itself); everything else is a back-edge and fails lint with the reason below. From the
// bottom up:
//
//   pkg/shared      helpers with no kfn knowledge                 imports nothing of kfn
//   pkg/contracts   names and labels several components agree on  shared
//   pkg/apis        Function and Trigger: types, defaults, validation, conditions, the
//                   one status rule per resource                  shared, contracts
//   pkg/runtime     the Node function runtime (kfn-node-runtime)  shared, contracts
//   pkg/controller  Kubernetes client machinery: informers, queue, leader election,
//                   Kubernetes Events                             apis, contracts, shared
//   pkg/events/cloudevents, pkg/events/jetstream                  apis, contracts, shared
//   pkg/events/policy   + cloudevents, jetstream
//   pkg/events/dispatcher, pkg/events/dlq   + policy
//   pkg/events/ingress  + dispatcher
//   pkg/platform    the backend seam (local processes, a cluster's EndpointSlices,
//                   Deployments, scale)                           apis, contracts, shared, controller
//   pkg/autoscaler  scaling decisions                             + platform, controller
//   pkg/activator   the HTTP data plane                           + platform, autoscaler
//   pkg/reconciler  the cluster controller's reconcilers          apis, contracts, shared,
//                                                                 controller, events/jetstream
//   pkg/dev         kfn dev: every component in one process       all of pkg
//   cmd/            entries: wiring only                          everything
// Nothing in pkg/ imports cmd/, test/ or bench/. A contract two folders share (a label, a
// wire type, a bucket layout) moves below both, into pkg/contracts, pkg/apis or the lower
// events folder, instead of one importing the other. The rule is ESLint's own
// no-restricted-imports, one block per directory, with the relative path from that
// directory to each forbidden folder, so `../dispatcher/x.js` and `../../events/dispatcher/x.js`
// are caught alike, and a path out of pkg/ and back in (../../../pkg/x) is refused as such.
// Dynamic import() is not checked. test/lint/boundaries.test.ts proves it fails on a back-edge.
const BASE = ['pkg/shared', 'pkg/contracts', 'pkg/apis'];
const EVENTS_LOW = ['pkg/events/cloudevents', 'pkg/events/jetstream'];
const LAYERS = {
  'pkg/shared': [],
  'pkg/contracts': ['pkg/shared'],
  'pkg/apis': ['pkg/shared', 'pkg/contracts'],
  'pkg/runtime': ['pkg/shared', 'pkg/contracts'],
  'pkg/controller': BASE,
  'pkg/events/cloudevents': BASE,
  'pkg/events/jetstream': BASE,
  'pkg/events/policy': [...BASE, ...EVENTS_LOW],
  'pkg/events/dispatcher': [...BASE, ...EVENTS_LOW, 'pkg/events/policy'],
  'pkg/events/dlq': [...BASE, ...EVENTS_LOW, 'pkg/events/policy'],
  'pkg/events/ingress': [...BASE, ...EVENTS_LOW, 'pkg/events/policy', 'pkg/events/dispatcher'],
  'pkg/platform': [...BASE, 'pkg/controller'],
  'pkg/autoscaler': [...BASE, 'pkg/controller', 'pkg/platform'],
  'pkg/activator': [...BASE, 'pkg/platform', 'pkg/autoscaler'],
  'pkg/reconciler': [...BASE, 'pkg/controller', 'pkg/events/jetstream'],
  'pkg/dev': 'all',
};
const OUTSIDE = ['cmd', 'test', 'bench'];

function moduleOf(dir) {
  return Object.keys(LAYERS).find((m) => dir === m || dir.startsWith(`${m}/`));
}

function directoriesUnder(root, dir) {
  const entries = readdirSync(path.join(root, dir), { withFileTypes: true }).filter((e) => e.isDirectory());
  return [dir, ...entries.flatMap((e) => directoriesUnder(root, `${dir}/${e.name}`))];
}

function escapeRegex(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One no-restricted-imports block per directory of pkg/ (flat config would let a later block replace an earlier one's options). */
function boundariesFor(root) {
  return directoriesUnder(root, 'pkg').flatMap((dir) => {
    const mod = moduleOf(dir);
    if (!mod) return [];
    const allowed = LAYERS[mod];
    const forbidden = [...(allowed === 'all' ? [] : Object.keys(LAYERS).filter((m) => m !== mod && !allowed.includes(m))), ...OUTSIDE];
    const patterns = forbidden.map((target) => {
      const rel = path.posix.relative(dir, target);
      return {
        regex: `^(\\./)?${escapeRegex(rel)}(/|$)`,
        message:
          allowed === 'all' || OUTSIDE.includes(target)
            ? `${mod} must not import ${target}: nothing in pkg/ depends on entries, tests or benchmarks.`
            : `${mod} must not import ${target} (a back-edge or a sideways one): ${mod} may import only ${allowed.join(', ') || 'nothing of kfn'}. Move what both need below both (pkg/contracts, pkg/apis), or declare a narrow interface where it is used (see eslint.config.js).`,
      };
    });
    // A path out of pkg/ and back in would hide any edge from the patterns above.
    patterns.push({ regex: '^(\\./)?(\\.\\./)+pkg/', message: 'Inside pkg/, import by the short relative path (../x), not through the repository root, so the import boundaries can see the edge.' });
    return [{ files: [`${dir}/*.ts`], rules: { 'no-restricted-imports': ['error', { patterns }] } }];
  });
}

/** The import-boundary blocks alone, for test/lint/boundaries.test.ts. */
export const boundaries = boundariesFor(import.meta.dirname);

export default tseslint.config(
  { ignores: ['dist/**', 'dist.*/**', 'node_modules/**', 'samples/**', 'bin/**', 'eslint.config.js'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's describe/it/test return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['cmd/kfn/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  ...boundaries,
);
