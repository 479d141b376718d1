// kfn's manifests on a real kube-apiserver: config/ installs as the README says (kubectl
// apply -k, client-side and server-side, with no warnings), every sample applies, and
// the API server accepts and refuses the same Function and Trigger fixtures that our
// validator does, naming the same field. Skipped with one line without KUBEBUILDER_ASSETS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { anyIndex, loadFixtures, type Fixture } from '../apis/crd-model.js';
import { configFiles, loadKustomization, loadObjects, repoRoot, yamlFiles, type K8sObject } from '../config/load.js';
import { applyAll, create, kubectl, messageOf, type Manifest } from './apply.js';
import { assetsOrSkip, startControlPlane, type ControlPlane } from './control-plane.js';

const assets = assetsOrSkip();
const skip = typeof assets === 'string' ? assets : false;

/** config/ as kustomize renders it: the files in the kustomization's order, in its namespace. */
function renderedConfig(): Manifest[] {
  const k = loadKustomization();
  const namespaced = (o: K8sObject): boolean => !['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind);
  const files = (k.resources ?? []).map((r) => `config/${r}`);
  assert.deepEqual([...files].sort(), [...configFiles()].sort(), 'the kustomization lists every file');
  return loadObjects(files).map((o) => (namespaced(o) && k.namespace ? { ...o, metadata: { ...o.metadata, namespace: k.namespace } } : o)) as Manifest[];
}

describe('config/ and samples/ on a real API server', { skip }, () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane(assets as Exclude<typeof assets, string>);
  });
  after(async () => {
    await cp?.stop();
  });

  it('kubectl apply -k config/ --server-side installs everything, with no warnings', { skip: typeof assets !== 'string' && !assets.kubectl ? 'kubectl is not in KUBEBUILDER_ASSETS' : false }, async () => {
    const out = await kubectl(cp, ['apply', '-k', 'config/', '--server-side'], repoRoot());
    assert.equal(out.code, 0, out.stderr);
    assert.doesNotMatch(out.stderr, /warning/i);
  });

  it('kubectl apply -k config/ (client-side) installs everything, with no warnings', { skip: typeof assets !== 'string' && !assets.kubectl ? 'kubectl is not in KUBEBUILDER_ASSETS' : false }, async () => {
    const out = await kubectl(cp, ['apply', '-k', 'config/'], repoRoot());
    assert.equal(out.code, 0, out.stderr);
    assert.doesNotMatch(out.stderr, /warning/i);
  });

  it('every object of config/, server-side applied with strict field validation, is accepted with no warnings', async () => {
    const { warnings } = await applyAll(cp, renderedConfig());
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
      const res = await create(cp, f.manifest as Manifest, { dryRun: true });
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
        assert.ok(res.status === 422 || res.status === 400, `${f.file}: want 422, got ${res.status} ${res.message}`);
        assert.ok(anyIndex(res.message).includes(anyIndex(f.expect ?? '-')), `${f.file}: the server's message does not name ${f.expect}: ${res.message}`);
      }
    });
  }
});
