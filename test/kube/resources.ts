// The resource types the double serves, and how tests name them ('deployments', 'functions.kfn.dev').
import type { ResourceType } from './types.js';

function rt(group: string, version: string, resource: string, kind: string, namespaced: boolean, sub: Partial<Pick<ResourceType, 'statusSubresource' | 'scaleSubresource'>> = {}): ResourceType {
  return { group, version, resource, kind, namespaced, statusSubresource: sub.statusSubresource ?? false, scaleSubresource: sub.scaleSubresource ?? false };
}

export const DEFAULT_RESOURCES: readonly ResourceType[] = [
  rt('', 'v1', 'namespaces', 'Namespace', false, { statusSubresource: true }),
  rt('', 'v1', 'services', 'Service', true, { statusSubresource: true }),
  rt('', 'v1', 'pods', 'Pod', true, { statusSubresource: true }),
  rt('', 'v1', 'events', 'Event', true),
  rt('', 'v1', 'configmaps', 'ConfigMap', true),
  rt('', 'v1', 'secrets', 'Secret', true),
  rt('', 'v1', 'serviceaccounts', 'ServiceAccount', true),
  rt('apps', 'v1', 'deployments', 'Deployment', true, { statusSubresource: true, scaleSubresource: true }),
  rt('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true),
  rt('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  rt('events.k8s.io', 'v1', 'events', 'Event', true),
  rt('kfn.dev', 'v1alpha1', 'functions', 'Function', true, { statusSubresource: true }),
  rt('kfn.dev', 'v1alpha1', 'triggers', 'Trigger', true, { statusSubresource: true }),
  rt('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false, { statusSubresource: true }),
];

export function resourceKey(t: Pick<ResourceType, 'group' | 'resource'>): string {
  return t.group === '' ? t.resource : `${t.resource}.${t.group}`;
}

export function apiVersionOf(t: ResourceType): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

export class ResourceRegistry {
  private readonly byKey = new Map<string, ResourceType>();

  constructor(types: readonly ResourceType[]) {
    for (const t of types) this.add(t);
  }

  add(t: ResourceType): void {
    this.byKey.set(resourceKey(t), t);
  }

  /** By group/version/plural, as a URL names it. */
  lookup(group: string, version: string, resource: string): ResourceType | undefined {
    const t = this.byKey.get(resourceKey({ group, resource }));
    return t?.version === version ? t : undefined;
  }

  /** By a test's short name: 'deployments', 'deployments.apps', 'functions.kfn.dev', 'functions'. */
  resolve(ref: string): ResourceType {
    const exact = this.byKey.get(ref);
    if (exact) return exact;
    const matches = [...this.byKey.values()].filter((t) => t.resource === ref);
    const core = matches.find((t) => t.group === '');
    const found = core ?? (matches.length === 1 ? matches[0] : undefined);
    if (!found) throw new Error(`apiserver double: unknown or ambiguous resource ${JSON.stringify(ref)}`);
    return found;
  }

  inGroupVersion(group: string, version: string): ResourceType[] {
    return [...this.byKey.values()].filter((t) => t.group === group && t.version === version);
  }

  all(): ResourceType[] {
    return [...this.byKey.values()];
  }
}
