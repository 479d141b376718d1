// Proves `kubectl apply -k config/` gets well-formed input: every YAML file parses, every
// object is addressable and in the right namespace, kustomization.yaml lists every file,
// the images are the ones the root Dockerfile builds, and the samples are accepted by
// the CRDs that config/ installs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { validateFunction } from '../../pkg/apis/function/validation.js';
import { crdChecks } from './crd-model.js';
import { fieldProblems, modelOf } from './fields.js';
import {
  CLUSTER_SCOPED_KINDS, KUSTOMIZATION, allContainers, configFiles, fromRoot, isMapping, loadDocs, loadKustomization,
  loadObjects, ref, repoRoot, workloads, yamlFiles, type K8sObject,
} from './load.js';

const NAMESPACE = 'kfn-system';
const yamlUnderTest = [...yamlFiles('config', false), ...yamlFiles('samples', true)];
const config = loadObjects(configFiles());

describe('every YAML file under config/ and samples/ parses', () => {
  it('finds the files', () => {
    assert.ok(yamlUnderTest.includes('config/200-crd-function.yaml'));
    assert.ok(yamlUnderTest.some((f) => f.startsWith('samples/')), 'no sample manifests found');
  });

  for (const file of yamlUnderTest) {
    it(`parses every document of ${file} without errors or duplicate keys`, () => {
      const docs = loadDocs(file);
      assert.ok(docs.length > 0);
      for (const d of docs) assert.deepEqual(d.errors, [], `${file} document ${d.index}`);
    });
  }
});

describe('every object is a well-formed Kubernetes object', () => {
  const files = yamlUnderTest.filter((f) => f !== KUSTOMIZATION);
  for (const file of files) {
    it(`gives every object in ${file} an apiVersion, a kind and a metadata.name`, () => {
      for (const d of loadDocs(file)) {
        if (d.value === null || d.value === undefined) continue; // kubectl skips empty documents
        assert.ok(isMapping(d.value), `${file} document ${d.index} is not a mapping`);
        const o = d.value;
        const at = `${file} document ${d.index}`;
        assert.ok(typeof o.apiVersion === 'string' && o.apiVersion !== '', `${at}: apiVersion`);
        assert.ok(typeof o.kind === 'string' && o.kind !== '', `${at}: kind`);
        assert.ok(isMapping(o.metadata) && typeof o.metadata.name === 'string' && o.metadata.name !== '', `${at}: metadata.name`);
      }
    });
  }

  for (const o of config) {
    it(`gives ${ref(o)} only fields of the right type that the Kubernetes API knows, as strict validation demands`, () => {
      const model = modelOf(o);
      assert.ok(model, `no API model for ${o.apiVersion} ${o.kind}`);
      assert.deepEqual(fieldProblems(o, model), []);
    });
  }

  it('would refuse a misspelt field and a port given as a string, so the check above can fail', () => {
    const pod = { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: '8080' }], securityContext: { readOnlyRootFileSystem: true } }] };
    assert.deepEqual(fieldProblems(pod, 'V1PodSpec'), [
      'containers[0].ports[0].containerPort: want a number, got "8080"',
      'containers[0].securityContext.readOnlyRootFileSystem: unknown field',
    ]);
  });

  it('names no object twice', () => {
    const seen = config.map((o) => `${o.apiVersion.split('/')[0]} ${ref(o)}`);
    assert.deepEqual(seen.filter((k, i) => seen.indexOf(k) !== i), []);
  });

  it(`puts every namespaced object of config/ in ${NAMESPACE} and leaves cluster-scoped ones without one`, () => {
    for (const o of config) {
      if (CLUSTER_SCOPED_KINDS.has(o.kind)) assert.equal(o.metadata.namespace, undefined, ref(o));
      else assert.equal(o.metadata.namespace, NAMESPACE, ref(o));
    }
  });

  it(`labels every object of config/ as part of kfn, so \`kubectl get all -l app.kubernetes.io/part-of=kfn\` finds them`, () => {
    for (const o of config) assert.equal(o.metadata.labels?.['app.kubernetes.io/part-of'], 'kfn', ref(o));
  });
});

describe('kustomization.yaml', () => {
  const k = loadKustomization();

  it(`installs into ${NAMESPACE}`, () => assert.equal(k.namespace, NAMESPACE));

  it('lists exactly the files in config/, so none is forgotten', () => {
    assert.deepEqual([...(k.resources ?? [])].sort(), configFiles().map((f) => f.slice('config/'.length)).sort());
  });

  it('lists them in apply order, by their number', () => {
    const numbers = (k.resources ?? []).map((f) => Number(/^(\d+)-/.exec(f)?.[1] ?? NaN));
    assert.ok(numbers.every((n) => Number.isInteger(n)), `every file starts with a number: ${(k.resources ?? []).join(', ')}`);
    assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b));
  });

  it('lists files that exist', () => {
    for (const f of k.resources ?? []) assert.ok(existsSync(fromRoot(`config/${f}`)), f);
  });

  it('sets the tag of kfn/platform, the image every kfn Deployment runs', () => {
    const platform = k.images?.find((i) => i.name === 'kfn/platform');
    assert.ok(platform?.newTag, 'images: kfn/platform with a newTag');
    const text = readFileSync(fromRoot(KUSTOMIZATION), 'utf8');
    assert.match(text, /#.*placeholder/i, 'a comment says the tag is a placeholder');
  });

  // kubectl embeds kustomize; where it is installed, build for real.
  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  it('builds with `kubectl kustomize config/` into every object, in kfn-system, with the tag set', { skip: kubectl.status !== 0 && 'kubectl is not installed' }, () => {
    const built = spawnSync('kubectl', ['kustomize', fromRoot('config')], { encoding: 'utf8', cwd: repoRoot() });
    assert.equal(built.status, 0, built.stderr);
    const objects = parseAllDocuments(built.stdout).map((d) => d.toJS() as K8sObject);
    assert.deepEqual(objects.map(ref).sort(), config.map(ref).sort());
    for (const o of objects) {
      if (!CLUSTER_SCOPED_KINDS.has(o.kind)) assert.equal(o.metadata.namespace, NAMESPACE, ref(o));
    }
    const tag = k.images?.find((i) => i.name === 'kfn/platform')?.newTag;
    for (const w of workloads(objects)) {
      for (const c of allContainers(w.spec.template.spec)) {
        if (c.image.startsWith('kfn/platform')) assert.equal(c.image, `kfn/platform:${tag}`, ref(w));
      }
    }
  });
});

describe('images are the ones the root Dockerfile builds', () => {
  const dockerfile = readFileSync(fromRoot('Dockerfile'), 'utf8');
  const stages = new Map<string, string>();
  for (const part of dockerfile.split(/^(?=FROM\s)/m)) {
    const name = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(part)?.[1];
    if (name) stages.set(name, part);
  }
  const platform = stages.get('platform') ?? '';
  const workdir = [...platform.matchAll(/^WORKDIR\s+(\S+)/gm)].at(-1)?.[1] ?? '';
  const uid = Number(/^USER\s+(\d+)/m.exec(platform)?.[1]);

  // Convention: the Dockerfile's header shows each target's build command; the image a
  // manifest names must be one of them.
  const builtImages = new Map([...dockerfile.matchAll(/^#\s*docker build --target (\S+)\s+-t ([^:\s]+):\S+/gm)].map((m) => [m[2] ?? '', m[1] ?? '']));
  // Third-party images config/ may run, each for a stated reason.
  const THIRD_PARTY = [/^nats:2\.\d+(\.\d+)?-alpine$/]; // 500-nats.yaml, the event bus

  it('has a `platform` stage that runs node from /opt/kfn as uid 1000', () => {
    assert.ok(platform, 'FROM … AS platform');
    assert.match(platform, /^ENTRYPOINT \["node"\]/m);
    assert.equal(workdir, '/opt/kfn');
    assert.equal(uid, 1000);
    assert.match(platform, /^COPY --from=build \/src\/dist\/cmd \.\/dist\/cmd$/m);
    assert.equal(builtImages.get('kfn/platform'), 'platform', 'the header says `docker build --target platform -t kfn/platform:…`');
  });

  const containers = workloads(config).flatMap((w) => allContainers(w.spec.template.spec).map((c) => ({ w, c })));

  it('runs only kfn/platform and the listed third-party images', () => {
    for (const { w, c } of containers) {
      const repo = c.image.replace(/:[^/:]+$/, '');
      const ok = builtImages.has(repo) || THIRD_PARTY.some((re) => re.test(c.image));
      assert.ok(ok, `${ref(w)} runs ${c.image}, which neither the Dockerfile builds nor the allow-list names`);
    }
  });

  for (const { w, c } of containers.filter(({ c }) => c.image.startsWith('kfn/platform'))) {
    const script = c.args?.[0] ?? '';
    const entry = /^\/opt\/kfn\/dist\/cmd\/([a-z-]+)\/main\.js$/.exec(script)?.[1];
    it(`starts ${ref(w)} as \`node ${script}\`, an entry in the image`, () => {
      assert.equal(c.command, undefined, 'keep the image ENTRYPOINT (node); pick the entry with args');
      assert.ok(entry, `args[0] is ${workdir}/dist/cmd/<entry>/main.js, got ${script}`);
      assert.ok(script.startsWith(`${workdir}/`));
      assert.equal(c.securityContext?.runAsUser ?? w.spec.template.spec.securityContext?.runAsUser, uid, 'the Dockerfile USER');
    });
    const source = `cmd/${entry}/main.ts`;
    it(`has the source of that entry, ${source}`, () => {
      assert.ok(existsSync(fromRoot(source)));
    });
  }
});

describe('kfn resources in samples/ are accepted by the CRDs in config/', () => {
  const checks = crdChecks(config);
  const samples = yamlFiles('samples', true).flatMap((file) =>
    loadDocs(file).filter((d) => isMapping(d.value) && String(d.value.apiVersion).startsWith('kfn.dev/')).map((d) => ({ file, obj: d.value as K8sObject })),
  );

  it('finds kfn resources in samples/', () => assert.ok(samples.length > 0));

  for (const { file, obj } of samples) {
    it(`accepts ${obj.kind} ${obj.metadata.name} of ${file}`, () => {
      const check = checks.get(`${obj.apiVersion} ${obj.kind}`);
      assert.ok(check, `config/ installs no CRD serving ${obj.apiVersion} ${obj.kind}`);
      assert.deepEqual(check(obj), []);
      // What `kfn dev` enforces without an API server.
      if (obj.kind === 'Function') assert.deepEqual(validateFunction(obj), []);
    });
  }

  it('refuses a sample with a field the CRD does not know, so the check above can fail', () => {
    const first = samples.find((s) => s.obj.kind === 'Function');
    assert.ok(first);
    const check = checks.get(`${first.obj.apiVersion} ${first.obj.kind}`);
    assert.ok(check);
    const broken = structuredClone(first.obj) as K8sObject & { spec: Record<string, unknown> };
    broken.spec.replicas = 3;
    assert.notDeepEqual(check(broken), []);
  });
});
