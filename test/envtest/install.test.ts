// kfn's manifests on a real kube-apiserver: config/ installs as the README says (kubectl
// apply -k, client-side and server-side, with no warnings), every sample applies, and
// the API server accepts and refuses the same Function and Trigger fixtures that our
// validator does, naming the same field. Skipped with one line without KUBEBUILDER_ASSETS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { anyIndex, loadFixtures, type Fixture } from '../apis/crd-model.js';
import { loadObjects, repoRoot, yamlFiles } from '../config/load.js';
import { applyAll, configManifests, create, kubectl, messageOf, type Manifest } from './apply.js';
import { assetsOrSkip, startControlPlane, type ControlPlane } from './control-plane.js';

const assets = assetsOrSkip();
const skip = typeof assets === 'string' ? assets : false;
const noKubectl = typeof assets !== 'string' && !assets.kubectl ? 'kubectl is not in KUBEBUILDER_ASSETS' : false;

describe('config/ and samples/ on a real API server', { skip }, () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane(assets as Exclude<typeof assets, string>);
  });
  after(async () => {
    await cp?.stop();
  });

  it('kubectl apply -k config/ (client-side) installs everything, with no warnings', { skip: noKubectl }, async () => {
    const out = await kubectl(cp, ['apply', '-k', 'config/'], repoRoot());
    assert.equal(out.code, 0, out.stderr);
    assert.doesNotMatch(out.stderr, /warning/i);
  });

  it('every object of config/, server-side applied with strict field validation, is accepted with no warnings', async () => {
    const { warnings } = await applyAll(cp, configManifests());
    assert.deepEqual(warnings, []);
  });

  it('every sample is accepted with no warnings', async () => {
    const samples = loadObjects(yamlFiles('samples', true)) as Manifest[];
    assert.ok(samples.length > 0);
    const { warnings } = await applyAll(cp, samples);
    assert.deepEqual(warnings, []);
  });

  for (const [kind, folder] of [['Function', 'test/apis/fixtures'], ['Trigger', 'test/apis/trigger/fixtures']] as const) {
    const check = async (f: Fixture): Promise<{ status: number; message: string; warnings: string[] }> => {
      // Dry runs persist nothing, so fixtures never collide with each other; a namespace of
      // their own keeps them clear of the samples' objects.
      const given = f.manifest as Manifest;
      const m: Manifest = given.metadata ? { ...given, metadata: { ...given.metadata, namespace: given.metadata.namespace ?? 'fixtures' } } : given;
      const namespace = m.metadata?.namespace;
      if (namespace) {
        // The fixture's namespace must exist first; one the API server refuses to create
        // can never hold the object, which is the refusal a cluster gives.
        const ns = await create(cp, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
        if (ns.status !== 201 && ns.status !== 409) return { status: ns.status, message: `metadata.namespace: ${messageOf(ns)}`, warnings: ns.warnings };
      }
      // A version the server does not serve has no resource to send it to: discovery
      // says so, which is the refusal kubectl gives ("no matches for kind").
      const res = await create(cp, m, { dryRun: true }).catch((err: unknown) => ({ status: 404, text: `apiVersion: ${(err as Error).message}`, json: undefined, warnings: [] }));
      return { status: res.status, message: messageOf(res), warnings: res.warnings };
    };
    it(`accepts every valid ${kind} fixture, as the validator does`, async () => {
      for (const f of loadFixtures(folder, 'valid')) {
        const res = await check(f);
        assert.equal(res.status, 201, `${f.file}: ${res.message}`);
        assert.deepEqual(res.warnings, [], f.file);
      }
    });
    it(`refuses every invalid ${kind} fixture naming its field, as the validator does (and stores the controller-only ones)`, async () => {
      for (const f of loadFixtures(folder, 'invalid')) {
        const res = await check(f);
        if (f.controllerOnly) {
          assert.equal(res.status, 201, `${f.file} is the controller's to refuse, but the API server said: ${res.message}`);
          continue;
        }
        assert.ok([400, 404, 422].includes(res.status), `${f.file}: want 422, got ${res.status} ${res.message}`);
        assert.ok(anyIndex(res.message).includes(anyIndex(f.expect ?? '-')), `${f.file}: the server's message does not name ${f.expect}: ${res.message}`);
      }
    });
  }
});

describe('config/ on a fresh real API server, by server-side apply', { skip: skip || noKubectl }, () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane(assets as Exclude<typeof assets, string>);
  });
  after(async () => {
    await cp?.stop();
  });

  it('kubectl apply -k config/ --server-side installs everything, with no warnings, and again with nothing to change', async () => {
    for (const round of ['install', 're-apply']) {
      const out = await kubectl(cp, ['apply', '-k', 'config/', '--server-side'], repoRoot());
      assert.equal(out.code, 0, `${round}: ${out.stderr}`);
      assert.doesNotMatch(out.stderr, /warning/i, round);
    }
  });

  it('kubectl apply -k overlays/ha --server-side (three NATS servers) applies over it, with no warnings', async () => {
    const out = await kubectl(cp, ['apply', '-k', 'overlays/ha', '--server-side'], repoRoot());
    assert.equal(out.code, 0, out.stderr);
    assert.doesNotMatch(out.stderr, /warning/i);
    const sts = await cp.http('GET', '/apis/apps/v1/namespaces/kfn-system/statefulsets/nats');
    assert.equal((sts.json as { spec: { replicas: number } }).spec.replicas, 3);
  });
});
