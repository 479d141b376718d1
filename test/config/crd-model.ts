// What the API server does with a custom resource, for every CRD in config/: the model of
// test/apis/crd-model.ts (prune nulls, the schema as JSON Schema, strict fields,
// ObjectMeta, every x-kubernetes-validations rule), applied to each served version, so
// samples of any kind are checked too.
import { crdCheck, type K8sSchema } from '../apis/crd-model.js';
import type { K8sObject } from './load.js';

interface Crd extends K8sObject {
  spec: {
    group: string;
    names: { kind: string };
    versions: { name: string; served: boolean; schema: { openAPIV3Schema: K8sSchema } }[];
  };
}

/** Checks one object against its CRD; returns the reasons it would be refused. */
export type CrdCheck = (obj: unknown) => string[];

/** A check per served `apiVersion` + `kind` of every CRD among `objects`. */
export function crdChecks(objects: K8sObject[]): Map<string, CrdCheck> {
  const checks = new Map<string, CrdCheck>();
  for (const crd of objects.filter((o): o is Crd => o.kind === 'CustomResourceDefinition')) {
    for (const version of crd.spec.versions.filter((v) => v.served)) {
      const apiVersion = `${crd.spec.group}/${version.name}`;
      const check = crdCheck(version.schema.openAPIV3Schema, apiVersion, crd.spec.names.kind);
      checks.set(`${apiVersion} ${crd.spec.names.kind}`, (obj) => check(obj).map((e) => `${e.field}: ${e.message}`));
    }
  }
  return checks;
}
