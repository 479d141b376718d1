// Proves each kfn component's ServiceAccount gets exactly the API rights it needs and
// nothing more: the full list of what each one may do is written out below, and the RBAC
// in config/ must grant exactly that. A new right is a deliberate change to both.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configFiles, fromRoot, loadObjects, ref, type K8sObject } from './load.js';
import { Rbac, grantKey, type Grant, type PolicyRule } from './rbac.js';

const config = loadObjects(configFiles());
const rbac = new Rbac(config);

// Every resource name an RBAC rule in config/ may use, by API group. A typo here
// ('endpointslice', 'deployment/scale') would grant nothing and fail only on a cluster.
const KNOWN_RESOURCES: Record<string, string[]> = {
  '': ['configmaps', 'endpoints', 'events', 'namespaces', 'nodes', 'persistentvolumeclaims', 'pods', 'pods/log', 'pods/status', 'secrets', 'serviceaccounts', 'services', 'services/status'],
  apps: ['deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale'],
  'coordination.k8s.io': ['leases'],
  'discovery.k8s.io': ['endpointslices'],
  'events.k8s.io': ['events'],
  policy: ['poddisruptionbudgets'],
  // Installed by 200-crd-function.yaml and 210-crd-trigger.yaml.
  'kfn.dev': ['functions', 'functions/status', 'functions/finalizers', 'triggers', 'triggers/status', 'triggers/finalizers'],
};
const KNOWN_VERBS = new Set(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection']);

type Want = [verbs: string[], group: string, resources: string[]];
const READ = ['get', 'list', 'watch'];
const WRITE = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
/** What kfn's events.k8s.io recorder does: create an Event, patch its series count. */
const EVENTS = ['create', 'patch'];
const LEASES: Want = [['get', 'create', 'update'], 'coordination.k8s.io', ['leases']];

// What each component may do: everywhere ('*') because Functions live in any namespace,
// and in kfn-system for leader election.
const WANT: Record<string, Record<string, Want[]>> = {
  'kfn-controller': {
    '*': [
      [['get', 'list', 'watch', 'update', 'patch'], 'kfn.dev', ['functions', 'functions/status', 'triggers', 'triggers/status']],
      [['update'], 'kfn.dev', ['triggers/finalizers']],
      [WRITE, 'apps', ['deployments']],
      [WRITE, '', ['services']],
      [READ, '', ['pods']],
      [EVENTS, 'events.k8s.io', ['events']],
    ],
    'kfn-system': [LEASES],
  },
  'kfn-autoscaler': {
    '*': [
      [['get', 'update', 'patch'], 'apps', ['deployments/scale']],
      [READ, 'apps', ['deployments']],
      [READ, 'kfn.dev', ['functions']],
      [['list', 'watch'], 'discovery.k8s.io', ['endpointslices']],
      [EVENTS, 'events.k8s.io', ['events']],
    ],
    // get and update of the leader's slice are granted by name, which this checker never counts.
    'kfn-system': [LEASES, [['create'], 'discovery.k8s.io', ['endpointslices']]],
  },
  'kfn-activator': {
    '*': [
      [READ, 'discovery.k8s.io', ['endpointslices']],
      [READ, 'kfn.dev', ['functions']],
      [READ, '', ['services']],
      [EVENTS, 'events.k8s.io', ['events']],
    ],
  },
  'kfn-dispatcher': {
    '*': [
      [READ, 'kfn.dev', ['triggers']],
      [READ, 'kfn.dev', ['functions']],
    ],
  },
};

function expand(want: Record<string, Want[]>): string[] {
  const out = new Set<string>();
  for (const [namespace, rows] of Object.entries(want)) {
    for (const [verbs, group, resources] of rows) {
      for (const verb of verbs) for (const resource of resources) out.add(grantKey({ namespace, verb, group, resource }));
    }
  }
  return [...out].sort();
}

const serviceAccounts = config.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name).sort();
const rules = config
  .filter((o): o is K8sObject & { rules: PolicyRule[] } => o.kind === 'Role' || o.kind === 'ClusterRole')
  .flatMap((role) => role.rules.map((rule) => ({ role, rule })));

describe('RBAC rules are well-formed', () => {
  it('gives each component its own ServiceAccount and nothing else one', () => {
    assert.deepEqual(serviceAccounts, Object.keys(WANT).sort());
    assert.deepEqual(rbac.boundServiceAccounts(), Object.keys(WANT).map((sa) => `kfn-system/${sa}`).sort());
  });

  it('binds only roles that exist', () => assert.deepEqual(rbac.danglingBindings(), []));

  it('names only real resources and verbs, without wildcards', () => {
    for (const { role, rule } of rules) {
      for (const group of rule.apiGroups ?? []) {
        const known = KNOWN_RESOURCES[group];
        assert.ok(known, `${ref(role)}: unknown API group "${group}"`);
        for (const r of rule.resources ?? []) assert.ok(known.includes(r), `${ref(role)}: "${r}" is not a resource of "${group || 'core'}"`);
      }
      for (const key of ['apiGroups', 'resources', 'verbs'] as const) assert.ok(rule[key]?.length, `${ref(role)}: a rule without ${key}`);
      for (const v of rule.verbs ?? []) assert.ok(KNOWN_VERBS.has(v), `${ref(role)}: verb "${v}"`);
      assert.equal(rule.nonResourceURLs, undefined, `${ref(role)}: nonResourceURLs`);
    }
  });

  it('names only kfn.dev resources of CRDs in config/', () => {
    const plurals = config.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => (o.spec as { names: { plural: string } }).names.plural);
    const used = rules.flatMap(({ rule }) => ((rule.apiGroups ?? []).includes('kfn.dev') ? (rule.resources ?? []) : []));
    for (const r of used) {
      const base = r.split('/')[0] ?? '';
      assert.ok(plurals.includes(base), `kfn.dev/${r} has no CRD in config/`);
    }
  });

  it('explains every rule with a comment', () => {
    for (const file of configFiles().filter((f) => /\/300-rbac-/.test(f))) {
      const lines = readFileSync(fromRoot(file), 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (/^\s*- apiGroups:/.test(line)) assert.match(lines[i - 1] ?? '', /^\s*#/, `${file}:${i + 1} has no comment above it`);
      });
    }
  });
});

describe('each component may do exactly what it needs', () => {
  for (const [sa, want] of Object.entries(WANT)) {
    it(`grants ${sa} exactly its list, cluster-wide and in kfn-system`, () => {
      assert.deepEqual(rbac.grants(sa).map((g: Grant) => grantKey(g)), expand(want));
    });
  }
});

describe('what the components may not do', () => {
  const everyone = Object.keys(WANT);
  const cases: { name: string; verb: string; group: string; resource: string; namespace?: string; only: string[] }[] = [
    { name: 'create Deployments', verb: 'create', group: 'apps', resource: 'deployments', namespace: 'default', only: ['kfn-controller'] },
    { name: 'delete Deployments', verb: 'delete', group: 'apps', resource: 'deployments', namespace: 'default', only: ['kfn-controller'] },
    { name: 'change a Deployment\'s pod template', verb: 'update', group: 'apps', resource: 'deployments', namespace: 'default', only: ['kfn-controller'] },
    { name: 'set a Deployment\'s replicas', verb: 'update', group: 'apps', resource: 'deployments/scale', namespace: 'default', only: ['kfn-autoscaler'] },
    { name: 'create Services', verb: 'create', group: '', resource: 'services', namespace: 'default', only: ['kfn-controller'] },
    { name: 'write Function status', verb: 'update', group: 'kfn.dev', resource: 'functions/status', namespace: 'default', only: ['kfn-controller'] },
    { name: 'write Trigger status', verb: 'patch', group: 'kfn.dev', resource: 'triggers/status', namespace: 'default', only: ['kfn-controller'] },
    { name: 'set the finalizer that keeps a Trigger until its consumer is gone', verb: 'update', group: 'kfn.dev', resource: 'triggers/finalizers', namespace: 'default', only: ['kfn-controller'] },
    { name: 'update a Trigger (its finalizers)', verb: 'update', group: 'kfn.dev', resource: 'triggers', namespace: 'default', only: ['kfn-controller'] },
    { name: 'watch Triggers in every namespace', verb: 'watch', group: 'kfn.dev', resource: 'triggers', only: ['kfn-controller', 'kfn-dispatcher'] },
    { name: 'create Triggers', verb: 'create', group: 'kfn.dev', resource: 'triggers', namespace: 'default', only: [] },
    { name: 'delete Triggers', verb: 'delete', group: 'kfn.dev', resource: 'triggers', namespace: 'default', only: [] },
    { name: 'create Functions', verb: 'create', group: 'kfn.dev', resource: 'functions', namespace: 'default', only: [] },
    { name: 'delete Functions', verb: 'delete', group: 'kfn.dev', resource: 'functions', only: [] },
    { name: 'read Secrets', verb: 'get', group: '', resource: 'secrets', namespace: 'kfn-system', only: [] },
    { name: 'list Secrets anywhere', verb: 'list', group: '', resource: 'secrets', only: [] },
    { name: 'create pods', verb: 'create', group: '', resource: 'pods', namespace: 'default', only: [] },
    { name: 'exec into pods', verb: 'create', group: '', resource: 'pods/exec', namespace: 'default', only: [] },
    { name: 'delete pods', verb: 'delete', group: '', resource: 'pods', namespace: 'default', only: [] },
    { name: 'change RBAC', verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings', only: [] },
    { name: 'escalate roles', verb: 'escalate', group: 'rbac.authorization.k8s.io', resource: 'clusterroles', only: [] },
    { name: 'watch Functions in every namespace', verb: 'watch', group: 'kfn.dev', resource: 'functions', only: everyone },
    { name: 'write events.k8s.io Events about Functions', verb: 'create', group: 'events.k8s.io', resource: 'events', namespace: 'default', only: ['kfn-controller', 'kfn-autoscaler', 'kfn-activator'] },
    { name: 'count an Event\'s series', verb: 'patch', group: 'events.k8s.io', resource: 'events', namespace: 'default', only: ['kfn-controller', 'kfn-autoscaler', 'kfn-activator'] },
    { name: 'read or delete Events', verb: 'list', group: 'events.k8s.io', resource: 'events', namespace: 'default', only: [] },
    { name: 'write core/v1 Events (nothing of kfn\'s does)', verb: 'create', group: '', resource: 'events', namespace: 'default', only: [] },
    { name: 'take a leader Lease in kfn-system', verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: 'kfn-system', only: ['kfn-autoscaler', 'kfn-controller'] },
    { name: 'touch Leases outside kfn-system', verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: 'default', only: [] },
    { name: 'list Leases across namespaces', verb: 'list', group: 'coordination.k8s.io', resource: 'leases', only: [] },
  ];
  for (const c of cases) {
    const who = c.only.length === 0 ? 'no component' : c.only.length === everyone.length ? 'every component' : `only ${c.only.join(' and ')}`;
    it(`lets ${who} ${c.name}`, () => {
      for (const sa of everyone) {
        assert.equal(rbac.can(sa, c.verb, c.group, c.resource, c.namespace), c.only.includes(sa), `${sa} ${c.verb} ${c.group || 'core'}/${c.resource} in ${c.namespace ?? 'all namespaces'}`);
      }
    });
  }
});

describe('the RBAC model itself', () => {
  const binding = (kind: string, namespace: string | undefined, roleKind: string): K8sObject[] => [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa', namespace: 'ns' } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: roleKind, metadata: { name: 'r', ...(roleKind === 'Role' ? { namespace: 'ns' } : {}) }, rules: [{ apiGroups: ['apps'], resources: ['deployments/*'], verbs: ['*'] }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: { name: 'b', ...(namespace ? { namespace } : {}) }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: 'r' }, subjects: [{ kind: 'ServiceAccount', name: 'sa', namespace: 'ns' }] },
  ];

  it('grants a ClusterRoleBinding everywhere and a RoleBinding only in its namespace', () => {
    const cluster = new Rbac(binding('ClusterRoleBinding', undefined, 'ClusterRole'));
    assert.equal(cluster.can('ns/sa', 'update', 'apps', 'deployments/scale'), true);
    assert.equal(cluster.can('ns/sa', 'update', 'apps', 'deployments/scale', 'other'), true);
    const local = new Rbac(binding('RoleBinding', 'ns', 'ClusterRole'));
    assert.equal(local.can('ns/sa', 'update', 'apps', 'deployments/scale', 'ns'), true);
    assert.equal(local.can('ns/sa', 'update', 'apps', 'deployments/scale', 'other'), false);
    assert.equal(local.can('ns/sa', 'update', 'apps', 'deployments/scale'), false);
  });

  it('matches subresource wildcards, but not the parent resource', () => {
    const m = new Rbac(binding('ClusterRoleBinding', undefined, 'ClusterRole'));
    assert.equal(m.can('ns/sa', 'get', 'apps', 'deployments/status'), true);
    assert.equal(m.can('ns/sa', 'get', 'apps', 'deployments'), false);
    assert.equal(m.can('ns/other', 'get', 'apps', 'deployments/status'), false);
  });
});
