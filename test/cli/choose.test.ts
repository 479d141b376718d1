// Which backend the resource commands talk to: an explicit flag wins, then a running
// kfn dev, then the kubeconfig's cluster, else one line saying neither was found.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { chooseBackend, DEFAULT_ADMIN, type ChoiceInput } from '../../cmd/kfn/choose.js';
import { kubeconfigFiles, loadCluster } from '../../cmd/kfn/cluster/kubeconfig.js';
import { writeKubeconfig } from './fake-cluster.js';

const DEV = 'http://127.0.0.1:9081';
const KC = ['/home/u/.kube/config'];

const rows: Array<{ name: string; input: Partial<ChoiceInput>; want: ReturnType<typeof chooseBackend> }> = [
  { name: 'kfn dev running, kubeconfig present: kfn dev', input: { runningDev: DEV, kubeconfigs: KC }, want: { backend: 'dev', admin: DEV } },
  { name: 'kfn dev not running, kubeconfig present: the cluster', input: { kubeconfigs: KC }, want: { backend: 'cluster', files: KC, context: undefined } },
  { name: '--context given while kfn dev runs: the cluster', input: { flags: { context: 'prod' }, runningDev: DEV, kubeconfigs: KC }, want: { backend: 'cluster', files: KC, context: 'prod' } },
  { name: '--cluster while kfn dev runs: the cluster', input: { flags: { cluster: true }, runningDev: DEV, kubeconfigs: KC }, want: { backend: 'cluster', files: KC, context: undefined } },
  { name: '--kubeconfig while kfn dev runs: the cluster', input: { flags: { kubeconfig: '/k' }, runningDev: DEV, kubeconfigs: ['/k'] }, want: { backend: 'cluster', files: ['/k'], context: undefined } },
  { name: '--dev with no kfn dev state: the default admin port', input: { flags: { dev: true }, kubeconfigs: KC }, want: { backend: 'dev', admin: DEFAULT_ADMIN } },
  { name: '--admin URL: that kfn dev', input: { flags: { admin: 'http://h:1' }, runningDev: DEV }, want: { backend: 'dev', admin: 'http://h:1' } },
  { name: 'KFN_ADMIN set: kfn dev even with a kubeconfig', input: { adminEnv: 'http://e:2', kubeconfigs: KC }, want: { backend: 'dev', admin: 'http://e:2' } },
  {
    name: 'neither kfn dev nor a kubeconfig: one line naming both',
    input: {},
    want: { error: 'kfn dev is not running (start it with `kfn dev`) and no kubeconfig found (--kubeconfig, KUBECONFIG or ~/.kube/config)' },
  },
  { name: '--context without any kubeconfig: says so', input: { flags: { context: 'prod' }, runningDev: DEV }, want: { error: 'no kubeconfig found (--kubeconfig, KUBECONFIG or ~/.kube/config)' } },
  {
    name: '--dev and --context together: refused',
    input: { flags: { dev: true, context: 'prod' }, kubeconfigs: KC },
    want: { error: 'choose one: --dev/--admin (kfn dev) or --cluster/--context/--kubeconfig (a cluster)' },
  },
];

describe('chooseBackend', () => {
  for (const row of rows) {
    it(row.name, () => {
      const input: ChoiceInput = { flags: {}, adminEnv: undefined, runningDev: undefined, kubeconfigs: [], ...row.input };
      assert.deepEqual(chooseBackend(input), row.want);
    });
  }
});

describe('kubeconfigFiles finds the kubeconfig as kubectl does', () => {
  const present = new Set(['/a', '/c', '/home/u/.kube/config']);
  const env = (flag: string | undefined, kubeconfig: string | undefined) => ({ flag, env: kubeconfig, home: '/home/u', exists: (f: string) => present.has(f) });
  it('--kubeconfig wins, even when it does not exist (reading it then fails loudly)', () => assert.deepEqual(kubeconfigFiles(env('/missing', '/a')), ['/missing']));
  it('KUBECONFIG lists files; missing ones are skipped', () => assert.deepEqual(kubeconfigFiles(env(undefined, '/a:/b:/c')), ['/a', '/c']));
  it('KUBECONFIG naming only missing files: none, not ~/.kube/config', () => assert.deepEqual(kubeconfigFiles(env(undefined, '/b')), []));
  it('no KUBECONFIG: ~/.kube/config when it exists', () => assert.deepEqual(kubeconfigFiles(env(undefined, undefined)), ['/home/u/.kube/config']));
  it('nothing at all: none', () => assert.deepEqual(kubeconfigFiles({ ...env(undefined, undefined), home: '/nobody' }), []));
});

describe('loadCluster merges KUBECONFIG files as kubectl does', () => {
  it('the first file to set current-context and to define a name wins; a repeated name is no error', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kfn-kc-'));
    const a = await writeKubeconfig(dir, [{ name: 'kind-kind', server: 'http://127.0.0.1:1', token: 'a', namespace: 'from-a' }], '', 'a');
    const b = await writeKubeconfig(
      dir,
      [
        { name: 'kind-kind', server: 'http://127.0.0.1:2', token: 'b', namespace: 'from-b' },
        { name: 'prod', server: 'http://127.0.0.1:3', token: 'p' },
      ],
      'kind-kind',
      'b',
    );
    const t = loadCluster([a, b], undefined);
    assert.deepEqual([t.context, t.server, t.namespace], ['kind-kind', 'http://127.0.0.1:1', 'from-a']);
    const prod = loadCluster([a, b], 'prod');
    assert.deepEqual([prod.server, prod.namespace], ['http://127.0.0.1:3', 'default']);
  });
});
