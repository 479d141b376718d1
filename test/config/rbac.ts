// A small model of Kubernetes RBAC authorization over the objects in config/, so tests
// can ask what a ServiceAccount may do without an API server.
//
// What it models: ClusterRoleBindings grant their ClusterRole's rules everywhere;
// RoleBindings grant a Role's or a ClusterRole's rules in their own namespace only;
// subjects are matched as ServiceAccounts or as the groups every ServiceAccount is in;
// '*' in verbs, apiGroups and resources, and `deployments/*` for subresources. Rules with
// resourceNames never match (requests here carry no name), so they grant less, never
// more. Aggregated ClusterRoles are refused, because their rules come from elsewhere.
import type { K8sObject } from './load.js';

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface RoleObject extends K8sObject {
  rules?: PolicyRule[];
  aggregationRule?: unknown;
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

interface BindingObject extends K8sObject {
  roleRef: { apiGroup: string; kind: 'Role' | 'ClusterRole'; name: string };
  subjects?: Subject[];
}

/** One permission: `verb` on `group/resource` in `namespace`, or everywhere when '*'. */
export interface Grant {
  namespace: string;
  verb: string;
  group: string;
  resource: string;
}

/** `kfn-activator` (in kfn-system) or `namespace/name`. */
type ServiceAccountRef = string;

export class Rbac {
  private readonly roles = new Map<string, RoleObject>();
  private readonly bindings: BindingObject[] = [];

  constructor(objects: K8sObject[], private readonly defaultNamespace = 'kfn-system') {
    for (const o of objects) {
      if (o.kind === 'Role' || o.kind === 'ClusterRole') {
        const role = o as RoleObject;
        if (role.aggregationRule !== undefined) throw new Error(`${o.kind} ${o.metadata.name}: aggregated roles are not modelled`);
        this.roles.set(roleKey(o.kind, o.metadata.namespace, o.metadata.name), role);
      }
      if (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') this.bindings.push(o as BindingObject);
    }
  }

  /**
   * May `sa` do `verb` on `group/resource`? With a namespace: a request in that
   * namespace; without: a request across all namespaces (or on a cluster-scoped resource).
   */
  can(sa: ServiceAccountRef, verb: string, group: string, resource: string, namespace?: string): boolean {
    return this.scopedRules(sa).some(
      ({ namespace: at, rule }) => (at === '*' || at === namespace) && ruleAllows(rule, verb, group, resource),
    );
  }

  /** Every permission of `sa`, with wildcards left as '*'; sorted, without duplicates. */
  grants(sa: ServiceAccountRef): Grant[] {
    const seen = new Map<string, Grant>();
    for (const { namespace, rule } of this.scopedRules(sa)) {
      if (rule.resourceNames?.length) continue;
      for (const verb of rule.verbs ?? []) {
        for (const group of rule.apiGroups ?? []) {
          for (const resource of rule.resources ?? []) {
            const g = { namespace, verb, group, resource };
            seen.set(grantKey(g), g);
          }
        }
      }
    }
    return [...seen.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, g]) => g);
  }

  /** Bindings whose role does not exist: they grant nothing, which is never what was meant. */
  danglingBindings(): string[] {
    return this.bindings
      .filter((b) => !this.roles.has(roleKey(b.roleRef.kind, b.roleRef.kind === 'Role' ? b.metadata.namespace : undefined, b.roleRef.name)))
      .map((b) => `${b.kind} ${b.metadata.name} → ${b.roleRef.kind} ${b.roleRef.name}`);
  }

  /** The ServiceAccounts the bindings name, as `namespace/name`. */
  boundServiceAccounts(): string[] {
    return [...new Set(this.bindings.flatMap((b) => (b.subjects ?? []).filter((s) => s.kind === 'ServiceAccount').map((s) => `${s.namespace ?? b.metadata.namespace}/${s.name}`)))].sort();
  }

  private scopedRules(sa: ServiceAccountRef): { namespace: string; rule: PolicyRule }[] {
    const [ns, name] = sa.includes('/') ? (sa.split('/', 2) as [string, string]) : [this.defaultNamespace, sa];
    const out: { namespace: string; rule: PolicyRule }[] = [];
    for (const b of this.bindings) {
      if (!(b.subjects ?? []).some((s) => subjectIs(s, b, ns, name))) continue;
      const roleNs = b.roleRef.kind === 'Role' ? b.metadata.namespace : undefined;
      const role = this.roles.get(roleKey(b.roleRef.kind, roleNs, b.roleRef.name));
      const namespace = b.kind === 'ClusterRoleBinding' ? '*' : (b.metadata.namespace ?? this.defaultNamespace);
      for (const rule of role?.rules ?? []) out.push({ namespace, rule });
    }
    return out;
  }
}

function subjectIs(s: Subject, binding: BindingObject, ns: string, name: string): boolean {
  if (s.kind === 'ServiceAccount') return s.name === name && (s.namespace ?? binding.metadata.namespace) === ns;
  if (s.kind === 'Group') return ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'].includes(s.name);
  if (s.kind === 'User') return s.name === `system:serviceaccount:${ns}:${name}`;
  return false;
}

function ruleAllows(rule: PolicyRule, verb: string, group: string, resource: string): boolean {
  if (rule.resourceNames?.length) return false;
  const [base] = resource.split('/', 1);
  return (
    ((rule.verbs ?? []).includes(verb) || (rule.verbs ?? []).includes('*')) &&
    ((rule.apiGroups ?? []).includes(group) || (rule.apiGroups ?? []).includes('*')) &&
    (rule.resources ?? []).some((r) => r === resource || r === '*' || (resource.includes('/') && r === `${base}/*`))
  );
}

const roleKey = (kind: string, namespace: string | undefined, name: string): string =>
  kind === 'ClusterRole' ? `ClusterRole/${name}` : `Role/${namespace ?? ''}/${name}`;

export const grantKey = (g: Grant): string => `${g.namespace} ${g.verb} ${g.group || 'core'}/${g.resource}`;
