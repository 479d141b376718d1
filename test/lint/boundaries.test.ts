// The import-boundary rule of eslint.config.js, run through ESLint's own API: it fails on
// a back-edge, wherever the importing file sits and however the path is spelled, lets the
// allowed imports through, and the tree as it is has no back-edge left.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';

// dist/test/lint/ → the repository root, where eslint.config.js is.
const root = fileURLToPath(new URL('../../../', import.meta.url));

async function loadConfig(): Promise<{ boundaries: Linter.Config[]; all: Linter.Config[] }> {
  const mod = (await import(pathToFileURL(path.join(root, 'eslint.config.js')).href)) as { boundaries: Linter.Config[]; default: Linter.Config[] };
  return { boundaries: mod.boundaries, all: mod.default };
}

/** ESLint with the boundary blocks only: the TypeScript parser without type information, so a fixture need not be in the project. */
async function boundariesLinter(): Promise<ESLint> {
  const { boundaries } = await loadConfig();
  return new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...boundaries],
  });
}

async function restrictedImports(eslint: ESLint, file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  assert.ok(result, 'one result');
  const fatal = result.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], 'the fixture parses');
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const forbidden: Array<{ name: string; file: string; code: string; says: RegExp }> = [
  {
    name: 'the platform reading the reconciler’s names',
    file: 'pkg/platform/kubernetes/fixture.ts',
    code: "import { LABEL_FUNCTION } from '../../reconciler/function/names.js';\nexport const x = LABEL_FUNCTION;\n",
    says: /pkg\/platform must not import pkg\/reconciler.*may import only pkg\/shared, pkg\/contracts, pkg\/apis, pkg\/controller/,
  },
  {
    name: 'the platform typing against the activator, one level up and as a type-only import',
    file: 'pkg/platform/fixture.ts',
    code: "import type { FunctionServing } from '../activator/activator.js';\nexport type X = FunctionServing;\n",
    says: /pkg\/platform must not import pkg\/activator/,
  },
  {
    name: 'the Trigger reconciler reading the dispatcher’s stats module',
    file: 'pkg/reconciler/trigger/fixture.ts',
    code: "import { readTriggerStats } from '../../events/dispatcher/stats-kv.js';\nexport const r = readTriggerStats;\n",
    says: /pkg\/reconciler must not import pkg\/events\/dispatcher/,
  },
  {
    name: 'the dispatcher calling into the activator, through a re-export',
    file: 'pkg/events/dispatcher/fixture.ts',
    code: "export { LOCAL_TIMEOUT } from '../../activator/activator.js';\n",
    says: /pkg\/events\/dispatcher must not import pkg\/activator/,
  },
  {
    name: 'a sibling spelled from the shared parent: the dispatcher reaching the ingress',
    file: 'pkg/events/dispatcher/fixture.ts',
    code: "import { startIngress } from '../ingress/ingress.js';\nexport const s = startIngress;\n",
    says: /pkg\/events\/dispatcher must not import pkg\/events\/ingress/,
  },
  {
    name: 'the bottom layer importing the API types',
    file: 'pkg/shared/fixture.ts',
    code: "import './../apis/meta.js';\n",
    says: /pkg\/shared must not import pkg\/apis.*nothing of kfn/,
  },
  {
    name: 'a path out of pkg/ and back in, which would hide the edge',
    file: 'pkg/platform/kubernetes/fixture.ts',
    code: "import { createActivator } from '../../../pkg/activator/activator.js';\nexport const c = createActivator;\n",
    says: /not through the repository root/,
  },
  {
    name: 'a package importing an entry',
    file: 'pkg/dev/fixture.ts',
    code: "import { main } from '../../cmd/kfn/main.js';\nexport const m = main;\n",
    says: /pkg\/dev must not import cmd/,
  },
];

const allowed: Array<{ name: string; file: string; code: string }> = [
  { name: 'the platform reading the contracts', file: 'pkg/platform/kubernetes/fixture.ts', code: "import { LABEL_FUNCTION } from '../../contracts/workload.js';\nexport const x = LABEL_FUNCTION;\n" },
  { name: 'the ingress reading the dispatcher (a sibling above it)', file: 'pkg/events/ingress/fixture.ts', code: "import type { TriggerState } from '../dispatcher/dispatcher.js';\nexport type K = TriggerState;\n" },
  {
    name: 'the reconciler using the controller’s events folder, which is not pkg/events',
    file: 'pkg/reconciler/function/fixture.ts',
    code: "import { noEvents } from '../../controller/events/types.js';\nimport { readTriggerStats } from '../../events/jetstream/trigger-stats.js';\nexport const n = [noEvents, readTriggerStats];\n",
  },
  { name: 'kfn dev wiring the activator and the dispatcher', file: 'pkg/dev/fixture.ts', code: "import { createActivator } from '../activator/activator.js';\nimport { Dispatcher } from '../events/dispatcher/dispatcher.js';\nexport const d = [createActivator, Dispatcher];\n" },
  { name: 'an entry importing anything in pkg', file: 'cmd/kfn/fixture.ts', code: "import { Dispatcher } from '../../pkg/events/dispatcher/dispatcher.js';\nexport const d = Dispatcher;\n" },
];

describe('import boundaries (eslint.config.js)', () => {
  for (const row of forbidden) {
    it(`fails on a back-edge: ${row.name}`, async () => {
      const messages = await restrictedImports(await boundariesLinter(), row.file, row.code);
      assert.equal(messages.length, 1, JSON.stringify(messages));
      assert.match(messages[0] ?? '', row.says);
    });
  }

  for (const row of allowed) {
    it(`passes an allowed import: ${row.name}`, async () => {
      assert.deepEqual(await restrictedImports(await boundariesLinter(), row.file, row.code), []);
    });
  }

  it('the project’s lint config carries the boundary blocks', async () => {
    const { boundaries, all } = await loadConfig();
    assert.ok(boundaries.length > 10, `one block per directory of pkg/, got ${boundaries.length}`);
    for (const b of boundaries) assert.ok(all.includes(b), `missing from the default export: ${JSON.stringify(b.files)}`);
  });

  it('the tree as it stands has no back-edge left', async () => {
    const results = await (await boundariesLinter()).lintFiles(['pkg/**/*.ts', 'cmd/**/*.ts']);
    const edges = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.fatal).map((m) => `${path.relative(root, r.filePath)}:${m.line}: ${m.message}`));
    assert.ok(results.length > 100, `linted ${results.length} files`);
    assert.deepEqual(edges, []);
  });
});
