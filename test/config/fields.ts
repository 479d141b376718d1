// Checks objects of built-in kinds field by field against the API's own types, as
// `kubectl apply` does with strict field validation: an unknown field (a typo such as
// `readOnlyRootFileSystem`) or a value of the wrong type (`containerPort: "8080"`) fails
// the install. The types are @kubernetes/client-node's generated models, which carry
// every field's JSON name and type.
import * as k8s from '@kubernetes/client-node';
import { isMapping, type K8sObject } from './load.js';

interface Attribute {
  baseName: string;
  type: string;
}

interface Model {
  getAttributeTypeMap(): Attribute[];
}

const models = k8s as unknown as Record<string, Model | undefined>;

/** The model of a built-in kind (`apps/v1` `Deployment` → V1Deployment), if there is one. */
export function modelOf(o: K8sObject): string | undefined {
  const version = o.apiVersion.split('/').at(-1) ?? '';
  const name = `${version.charAt(0).toUpperCase()}${version.slice(1)}${o.kind}`;
  return typeof models[name]?.getAttributeTypeMap === 'function' ? name : undefined;
}

/** Problems of `value` as a `type`, each named by its path (`spec.template.spec.containers[0].ports[0]`). */
export function fieldProblems(value: unknown, type: string, at = ''): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type)?.[1];
  if (array) {
    if (!Array.isArray(value)) return [`${at}: want a list`];
    return value.flatMap((v: unknown, i) => fieldProblems(v, array, `${at}[${i}]`));
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type)?.[1];
  if (map) {
    if (!isMapping(value)) return [`${at}: want a map`];
    return Object.entries(value).flatMap(([k, v]) => fieldProblems(v, map, `${at}.${k}`));
  }
  switch (type) {
    case 'any':
      return [];
    case 'string':
    case 'Date':
      return typeof value === 'string' ? [] : [`${at}: want a string, got ${JSON.stringify(value)}`];
    case 'number':
      return typeof value === 'number' ? [] : [`${at}: want a number, got ${JSON.stringify(value)}`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: want true or false, got ${JSON.stringify(value)}`];
    case 'IntOrString':
      return typeof value === 'string' || typeof value === 'number' ? [] : [`${at}: want a number or a string`];
  }
  const model = models[type];
  if (typeof model?.getAttributeTypeMap !== 'function') return [`${at}: no model for ${type}`];
  if (!isMapping(value)) return [`${at}: want an object (${type})`];
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  const problems: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const path = at ? `${at}.${key}` : key;
    let t = attributes.get(key);
    if (t === undefined) {
      problems.push(`${path}: unknown field`);
      continue;
    }
    // The models type nested JSON schemas as `any`; they are schemas all the same.
    if (type === 'V1JSONSchemaProps' && (key === 'items' || key === 'additionalProperties') && isMapping(v)) t = 'V1JSONSchemaProps';
    problems.push(...fieldProblems(v, t, path));
  }
  return problems;
}
