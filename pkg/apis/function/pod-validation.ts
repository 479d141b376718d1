// The rules of a Function's pod-level fields (service account, env sources, volumes,
// scheduling, pod metadata, liveness probe, security contexts). Same contract as
// validation.ts: the CRD (generated from ./schema.ts) states the same rules, in CEL where
// they span fields, and test/apis/crd-agreement.test.ts holds those together. The few
// rules the CRD cannot afford in CEL (the syntax of map keys, whose length a CRD cannot
// bound, and the byte size of all annotations) are checked only here; on a cluster the
// controller runs this too and reports them as InvalidSpec, creating nothing.
import type { FieldError } from '../meta.js';
import { checkNumber, isMapping, rejectUnknownFields, requireMapping, show, type Fields } from '../checks.js';
import { bound, fieldsOf, patternOf, rangeOf, type StructuralSchema } from '../schema.js';
import { CONTAINER_NAME, LABEL_KEY_MAX_LENGTH, LABEL_KEY_PATTERN, RESERVED_KEY_PREFIX, RESERVED_LABEL_KEYS, functionSpecSchema } from './schema.js';

// Every bound, pattern, enum and field list below is read from the schema the CRD is
// generated from (./schema.ts), so the two cannot drift; the messages and the rules
// across fields are this file's own.
const P = functionSpecSchema.properties;
const VALUE_FROM = P.env.items.properties.valueFrom;
const ENV_FROM = P.envFrom.items;
const VOLUME = P.volumes.items.properties;
const KEY_TO_PATH = VOLUME.secret.properties.items;
const MOUNT = P.volumeMounts.items;
const TOLERATION = P.tolerations.items;
const LABELS = P.podMetadata.properties.labels;
const ANNOTATIONS = P.podMetadata.properties.annotations;

/** Kubernetes' limit on the keys and values of all annotations of an object, in bytes; too dear for CEL. */
export const ANNOTATIONS_TOTAL_MAX_BYTES = 256 * 1024;
const LABEL_VALUE = LABELS.additionalProperties;
const LABEL_KEY_RE = new RegExp(LABEL_KEY_PATTERN);

/** Volume sources that read the node's own storage or devices; refused with a reason. */
const NODE_LEVEL_VOLUMES = [
  'hostPath', 'local', 'nfs', 'iscsi', 'rbd', 'cephfs', 'glusterfs', 'fc', 'flexVolume', 'flocker', 'gitRepo',
  'awsElasticBlockStore', 'gcePersistentDisk', 'azureDisk', 'azureFile', 'cinder', 'vsphereVolume', 'quobyte',
  'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'storageos',
];
export const VOLUME_SOURCES = fieldsOf(P.volumes.items).filter((k) => k !== 'name');

type Errs = FieldError[];

// ---- entry point -------------------------------------------------------------------------

/** Every problem with the pod-level fields of `spec`. */
export function validatePodFields(errs: Errs, spec: Fields): void {
  checkPattern(errs, 'spec.serviceAccountName', spec.serviceAccountName, P.serviceAccountName, 'a DNS-1123 subdomain (lowercase letters, digits, \'-\' and \'.\')');
  validateImagePullSecrets(errs, spec.imagePullSecrets);
  validateEnvFrom(errs, spec.envFrom);
  const volumes = validateVolumes(errs, spec.volumes);
  validateVolumeMounts(errs, spec.volumeMounts, volumes);
  validateNodeSelector(errs, spec.nodeSelector);
  validateTolerations(errs, spec.tolerations);
  validateAffinity(errs, spec.affinity);
  validatePodMetadata(errs, spec.podMetadata);
  validateSecurityContexts(errs, spec.securityContext, spec.podSecurityContext);
}

/** spec.env[i].valueFrom: exactly one typed source. */
export function validateEnvVarSource(errs: Errs, path: string, v: unknown): void {
  if (!isMapping(v)) {
    errs.push({ field: path, message: `must be a mapping such as {secretKeyRef: {name, key}}, got ${show(v)}` });
    return;
  }
  const sources = fieldsOf(VALUE_FROM);
  rejectUnknownFields(errs, path, v, sources);
  if (!exactlyOne(errs, path, v, sources)) return;
  for (const kind of ['secretKeyRef', 'configMapKeyRef'] as const) {
    const ref = v[kind];
    const node = VALUE_FROM.properties[kind];
    if (ref == null || !requireMapping(errs, `${path}.${kind}`, ref)) continue;
    rejectUnknownFields(errs, `${path}.${kind}`, ref, fieldsOf(node));
    checkObjectName(errs, `${path}.${kind}.name`, ref.name, node.properties.name, true);
    checkPattern(errs, `${path}.${kind}.key`, ref.key, node.properties.key, "a key of letters, digits, '-', '_' and '.'", true);
    checkBoolean(errs, `${path}.${kind}.optional`, ref.optional);
  }
  const { fieldRef, resourceFieldRef } = v;
  if (fieldRef != null && requireMapping(errs, `${path}.fieldRef`, fieldRef)) {
    const node = VALUE_FROM.properties.fieldRef;
    rejectUnknownFields(errs, `${path}.fieldRef`, fieldRef, fieldsOf(node));
    checkPattern(errs, `${path}.fieldRef.fieldPath`, fieldRef.fieldPath, node.properties.fieldPath,
      "one of metadata.name, metadata.namespace, metadata.uid, metadata.labels['<key>'], metadata.annotations['<key>'], spec.nodeName, spec.serviceAccountName, status.hostIP(s), status.podIP(s)", true);
    const [version] = node.properties.apiVersion.enum;
    if (fieldRef.apiVersion != null && fieldRef.apiVersion !== version) errs.push({ field: `${path}.fieldRef.apiVersion`, message: `must be "${version}", got ${show(fieldRef.apiVersion)}` });
  }
  if (resourceFieldRef != null && requireMapping(errs, `${path}.resourceFieldRef`, resourceFieldRef)) {
    const at = `${path}.resourceFieldRef`;
    const node = VALUE_FROM.properties.resourceFieldRef;
    rejectUnknownFields(errs, at, resourceFieldRef, fieldsOf(node));
    checkPattern(errs, `${at}.resource`, resourceFieldRef.resource, node.properties.resource, 'limits.<name> or requests.<name> of cpu, memory, ephemeral-storage or hugepages-<size>', true);
    checkPattern(errs, `${at}.divisor`, resourceFieldRef.divisor, node.properties.divisor, 'a quoted quantity such as "1Mi" or "1m"');
    const c = resourceFieldRef.containerName;
    if (c != null && c !== CONTAINER_NAME) errs.push({ field: `${at}.containerName`, message: `must be "${CONTAINER_NAME}" (the only container of a Function's pod) or unset, got ${show(c)}` });
  }
}

// ---- parts ---------------------------------------------------------------------------------

function validateImagePullSecrets(errs: Errs, v: unknown): void {
  const list = checkList(errs, 'spec.imagePullSecrets', v, P.imagePullSecrets, '{name} entries');
  const seen = new Map<string, number>();
  list?.forEach((entry, i) => {
    const at = `spec.imagePullSecrets[${i}]`;
    if (!requireMapping(errs, at, entry)) return;
    rejectUnknownFields(errs, at, entry, fieldsOf(P.imagePullSecrets.items));
    if (checkObjectName(errs, `${at}.name`, entry.name, P.imagePullSecrets.items.properties.name, true)) unique(errs, 'name', entry.name as string, seen, 'spec.imagePullSecrets', i);
  });
}

function validateEnvFrom(errs: Errs, v: unknown): void {
  const list = checkList(errs, 'spec.envFrom', v, P.envFrom, '{secretRef} or {configMapRef} entries');
  list?.forEach((entry, i) => {
    const at = `spec.envFrom[${i}]`;
    if (!requireMapping(errs, at, entry)) return;
    rejectUnknownFields(errs, at, entry, fieldsOf(ENV_FROM));
    checkPattern(errs, `${at}.prefix`, entry.prefix, ENV_FROM.properties.prefix, "letters, digits and '_', not starting with a digit");
    if (!exactlyOne(errs, at, entry, ['secretRef', 'configMapRef'])) return;
    for (const kind of ['secretRef', 'configMapRef'] as const) {
      const ref = entry[kind];
      const node = ENV_FROM.properties[kind];
      if (ref == null || !requireMapping(errs, `${at}.${kind}`, ref)) continue;
      rejectUnknownFields(errs, `${at}.${kind}`, ref, fieldsOf(node));
      checkObjectName(errs, `${at}.${kind}.name`, ref.name, node.properties.name, true);
      checkBoolean(errs, `${at}.${kind}.optional`, ref.optional);
    }
  });
}

/** The valid volume names, for the mounts to refer to. */
function validateVolumes(errs: Errs, v: unknown): Set<string> {
  const names = new Set<string>();
  const list = checkList(errs, 'spec.volumes', v, P.volumes, '{name, <source>} entries');
  const seen = new Map<string, number>();
  list?.forEach((vol, i) => {
    const at = `spec.volumes[${i}]`;
    if (!requireMapping(errs, at, vol)) return;
    let otherSource = false;
    for (const key of Object.keys(vol)) {
      if (key === 'name' || VOLUME_SOURCES.includes(key)) continue;
      otherSource = true;
      errs.push({
        field: `${at}.${key}`,
        message: NODE_LEVEL_VOLUMES.includes(key)
          ? `${key} volumes are not allowed: they reach storage of the node or outside the namespace (a host-escape risk), and the restricted Pod Security profile refuses them; use ${VOLUME_SOURCES.join(', ')}`
          : `unknown field: a volume is one of ${VOLUME_SOURCES.join(', ')}${key === 'downwardAPI' ? ' (use projected with a downwardAPI source)' : ''}`,
      });
    }
    if (checkPattern(errs, `${at}.name`, vol.name, VOLUME.name, "a DNS-1123 label (lowercase letters, digits and '-')", true)) {
      if (unique(errs, 'name', vol.name as string, seen, 'spec.volumes', i)) names.add(vol.name as string);
    }
    // A volume of only hostPath gets one error, about hostPath, not also "set one of".
    if (otherSource && VOLUME_SOURCES.every((k) => vol[k] == null)) return;
    if (!exactlyOne(errs, at, vol, VOLUME_SOURCES)) return;
    const { secret, configMap, emptyDir, persistentVolumeClaim, projected } = vol;
    if (secret != null && requireMapping(errs, `${at}.secret`, secret)) {
      const node = VOLUME.secret;
      rejectUnknownFields(errs, `${at}.secret`, secret, fieldsOf(node));
      checkObjectName(errs, `${at}.secret.secretName`, secret.secretName, node.properties.secretName, true);
      checkKeyToPaths(errs, `${at}.secret.items`, secret.items);
      checkNumber(errs, `${at}.secret.defaultMode`, secret.defaultMode, rangeOf(node.properties.defaultMode));
      checkBoolean(errs, `${at}.secret.optional`, secret.optional);
    }
    if (configMap != null && requireMapping(errs, `${at}.configMap`, configMap)) {
      const node = VOLUME.configMap;
      rejectUnknownFields(errs, `${at}.configMap`, configMap, fieldsOf(node));
      checkObjectName(errs, `${at}.configMap.name`, configMap.name, node.properties.name, true);
      checkKeyToPaths(errs, `${at}.configMap.items`, configMap.items);
      checkNumber(errs, `${at}.configMap.defaultMode`, configMap.defaultMode, rangeOf(node.properties.defaultMode));
      checkBoolean(errs, `${at}.configMap.optional`, configMap.optional);
    }
    if (emptyDir != null && requireMapping(errs, `${at}.emptyDir`, emptyDir)) {
      const node = VOLUME.emptyDir;
      rejectUnknownFields(errs, `${at}.emptyDir`, emptyDir, fieldsOf(node));
      checkEnum(errs, `${at}.emptyDir.medium`, emptyDir.medium, node.properties.medium.enum);
      checkPattern(errs, `${at}.emptyDir.sizeLimit`, emptyDir.sizeLimit, node.properties.sizeLimit, 'a quoted quantity such as "64Mi"');
    }
    if (persistentVolumeClaim != null && requireMapping(errs, `${at}.persistentVolumeClaim`, persistentVolumeClaim)) {
      const node = VOLUME.persistentVolumeClaim;
      rejectUnknownFields(errs, `${at}.persistentVolumeClaim`, persistentVolumeClaim, fieldsOf(node));
      checkObjectName(errs, `${at}.persistentVolumeClaim.claimName`, persistentVolumeClaim.claimName, node.properties.claimName, true);
      checkBoolean(errs, `${at}.persistentVolumeClaim.readOnly`, persistentVolumeClaim.readOnly);
    }
    if (projected != null && requireMapping(errs, `${at}.projected`, projected)) {
      const node = VOLUME.projected;
      rejectUnknownFields(errs, `${at}.projected`, projected, fieldsOf(node));
      if (projected.sources == null) errs.push({ field: `${at}.projected.sources`, message: 'required: a list of secret, configMap, downwardAPI or serviceAccountToken sources' });
      const sources = checkList(errs, `${at}.projected.sources`, projected.sources, node.properties.sources, 'mappings');
      sources?.forEach((src, j) => {
        // The sources themselves are passed through: the API server checks them.
        if (!isMapping(src)) errs.push({ field: `${at}.projected.sources[${j}]`, message: `must be a mapping, got ${show(src)}` });
      });
      checkNumber(errs, `${at}.projected.defaultMode`, projected.defaultMode, rangeOf(node.properties.defaultMode));
    }
  });
  return names;
}

function checkKeyToPaths(errs: Errs, path: string, v: unknown): void {
  // A configMap volume's items have the same schema as a secret volume's.
  const list = checkList(errs, path, v, KEY_TO_PATH, '{key, path} entries');
  list?.forEach((item, i) => {
    const at = `${path}[${i}]`;
    if (!requireMapping(errs, at, item)) return;
    rejectUnknownFields(errs, at, item, fieldsOf(KEY_TO_PATH.items));
    checkPattern(errs, `${at}.key`, item.key, KEY_TO_PATH.items.properties.key, "a key of letters, digits, '-', '_' and '.'", true);
    checkRelativePath(errs, `${at}.path`, item.path, KEY_TO_PATH.items.properties.path, true);
    checkNumber(errs, `${at}.mode`, item.mode, rangeOf(KEY_TO_PATH.items.properties.mode));
  });
}

function validateVolumeMounts(errs: Errs, v: unknown, volumes: Set<string>): void {
  const list = checkList(errs, 'spec.volumeMounts', v, P.volumeMounts, '{name, mountPath} entries');
  const pathMax = bound(MOUNT.properties.mountPath, 'maxLength');
  const seen = new Map<string, number>();
  list?.forEach((m, i) => {
    const at = `spec.volumeMounts[${i}]`;
    if (!requireMapping(errs, at, m)) return;
    rejectUnknownFields(errs, at, m, fieldsOf(MOUNT));
    if (m.name == null) errs.push({ field: `${at}.name`, message: 'required: the name of a volume in spec.volumes' });
    else if (typeof m.name !== 'string' || !volumes.has(m.name)) {
      errs.push({ field: `${at}.name`, message: `must name a volume in spec.volumes, got ${show(m.name)}` });
    }
    if (m.mountPath == null) errs.push({ field: `${at}.mountPath`, message: 'required: an absolute path such as /etc/config' });
    else if (typeof m.mountPath !== 'string' || !patternOf(MOUNT.properties.mountPath).test(m.mountPath) || m.mountPath.length > pathMax || hasDotDot(m.mountPath)) {
      errs.push({ field: `${at}.mountPath`, message: `must be an absolute path of at most ${pathMax} characters with no '..' component, got ${show(m.mountPath)}` });
    } else unique(errs, 'mountPath', m.mountPath, seen, 'spec.volumeMounts', i);
    checkBoolean(errs, `${at}.readOnly`, m.readOnly);
    checkRelativePath(errs, `${at}.subPath`, m.subPath, MOUNT.properties.subPath, false);
  });
}

function validateNodeSelector(errs: Errs, v: unknown): void {
  const map = checkMap(errs, 'spec.nodeSelector', v, P.nodeSelector);
  if (!map) return;
  for (const [key, value] of Object.entries(map)) {
    checkLabelKey(errs, `spec.nodeSelector.${key}`, key);
    checkLabelValue(errs, `spec.nodeSelector.${key}`, value);
  }
}

function validateTolerations(errs: Errs, v: unknown): void {
  const list = checkList(errs, 'spec.tolerations', v, P.tolerations, '{key, operator, value, effect} entries');
  list?.forEach((t, i) => {
    const at = `spec.tolerations[${i}]`;
    if (!requireMapping(errs, at, t)) return;
    rejectUnknownFields(errs, at, t, fieldsOf(TOLERATION));
    const { key, operator, value, effect, tolerationSeconds } = t;
    if (key != null && typeof key !== 'string') errs.push({ field: `${at}.key`, message: `must be a string, got ${show(key)}` });
    else if (key != null && key !== '') checkLabelKey(errs, `${at}.key`, key);
    checkEnum(errs, `${at}.operator`, operator, TOLERATION.properties.operator.enum);
    checkLabelValue(errs, `${at}.value`, value);
    checkEnum(errs, `${at}.effect`, effect, TOLERATION.properties.effect.enum);
    checkNumber(errs, `${at}.tolerationSeconds`, tolerationSeconds, rangeOf(TOLERATION.properties.tolerationSeconds));
    // Kubernetes' own rules (ValidateTolerations).
    if (operator === 'Exists' && value != null && value !== '') {
      errs.push({ field: `${at}.value`, message: 'must be empty when operator is Exists (Exists matches any value)' });
    }
    if ((key == null || key === '') && operator !== 'Exists') {
      errs.push({ field: `${at}.operator`, message: 'must be Exists when key is empty (an empty key with Exists tolerates every taint)' });
    }
    if (tolerationSeconds != null && effect !== 'NoExecute') {
      errs.push({ field: `${at}.tolerationSeconds`, message: 'may only be set with effect NoExecute' });
    }
  });
}

function validateAffinity(errs: Errs, v: unknown): void {
  if (v == null || !requireMapping(errs, 'spec.affinity', v)) return;
  // Only the top level is checked here; the API server checks what is inside each one
  // when the Deployment is written, and the Function's status shows its answer.
  const affinityFields = fieldsOf(P.affinity);
  rejectUnknownFields(errs, 'spec.affinity', v, affinityFields);
  for (const key of affinityFields) {
    if (v[key] != null && !isMapping(v[key])) errs.push({ field: `spec.affinity.${key}`, message: `must be a mapping, got ${show(v[key])}` });
  }
}

function validatePodMetadata(errs: Errs, v: unknown): void {
  if (v == null || !requireMapping(errs, 'spec.podMetadata', v)) return;
  rejectUnknownFields(errs, 'spec.podMetadata', v, fieldsOf(P.podMetadata));
  const labels = checkMap(errs, 'spec.podMetadata.labels', v.labels, LABELS);
  for (const [key, value] of Object.entries(labels ?? {})) {
    const at = `spec.podMetadata.labels.${key}`;
    if (checkLabelKey(errs, at, key)) checkReserved(errs, 'spec.podMetadata.labels', key, RESERVED_LABEL_KEYS);
    checkLabelValue(errs, at, value);
  }
  const annotations = checkMap(errs, 'spec.podMetadata.annotations', v.annotations, ANNOTATIONS);
  const valueMaxLength = bound(ANNOTATIONS.additionalProperties, 'maxLength');
  let bytes = 0;
  for (const [key, value] of Object.entries(annotations ?? {})) {
    const at = `spec.podMetadata.annotations.${key}`;
    if (checkLabelKey(errs, at, key)) checkReserved(errs, 'spec.podMetadata.annotations', key, []);
    if (typeof value !== 'string') errs.push({ field: at, message: `must be a string (quote numbers and booleans), got ${show(value)}` });
    else if (value.length > valueMaxLength) errs.push({ field: at, message: `must be at most ${valueMaxLength} characters, got ${value.length}` });
    else bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (bytes > ANNOTATIONS_TOTAL_MAX_BYTES) {
    errs.push({ field: 'spec.podMetadata.annotations', message: `keys and values must total at most ${ANNOTATIONS_TOTAL_MAX_BYTES} bytes (256 KiB, as Kubernetes), got ${bytes}` });
  }
}

/** Reported at the map, where the CRD's rule over its keys reports it; the message names the key. */
function checkReserved(errs: Errs, at: string, key: string, reserved: readonly string[]): void {
  if (key.startsWith(RESERVED_KEY_PREFIX) || reserved.includes(key)) {
    errs.push({ field: at, message: `${key} is set by kfn itself (keys ${[`${RESERVED_KEY_PREFIX}*`, ...reserved].join(', ')}); choose another key` });
  }
}

function validateSecurityContexts(errs: Errs, container: unknown, pod: unknown): void {
  for (const [field, v, node] of [['spec.securityContext', container, P.securityContext], ['spec.podSecurityContext', pod, P.podSecurityContext]] as const) {
    if (v == null || !requireMapping(errs, field, v)) continue;
    rejectUnknownSecurityFields(errs, field, v, fieldsOf(node));
    for (const [key, sub] of Object.entries<StructuralSchema>(node.properties)) {
      const at = `${field}.${key}`;
      if (sub.type === 'boolean') checkBoolean(errs, at, v[key]);
      else if (sub.type === 'integer') checkNumber(errs, at, v[key], rangeOf(sub));
      else if (sub.items) {
        const ids = checkList(errs, at, v[key], sub, 'group ids');
        const range = rangeOf(sub.items);
        // The API server prunes null fields but not null entries: `[1, null]` is refused there.
        ids?.forEach((g, i) => checkNumber(errs, `${at}[${i}]`, g, range, true));
      }
    }
  }
  // The container's settings win over the pod's, as in Kubernetes; root with
  // runAsNonRoot would fail every start (CreateContainerConfigError), so say it now.
  const c = isMapping(container) ? container : {};
  const p = isMapping(pod) ? pod : {};
  const nonRoot = c.runAsNonRoot ?? p.runAsNonRoot;
  if (nonRoot !== true) return;
  if (c.runAsUser === 0) errs.push({ field: 'spec.securityContext.runAsUser', message: 'may not be 0 (root) with runAsNonRoot: true' });
  else if (c.runAsUser == null && p.runAsUser === 0) errs.push({ field: 'spec.podSecurityContext.runAsUser', message: 'may not be 0 (root) with runAsNonRoot: true' });
}

/** Settings that would weaken kfn's hardening get a reason, not just "unknown field". */
function rejectUnknownSecurityFields(errs: Errs, path: string, obj: Fields, known: readonly string[]): void {
  const hardening = ['privileged', 'allowPrivilegeEscalation', 'capabilities', 'seccompProfile', 'procMount', 'seLinuxOptions', 'appArmorProfile', 'sysctls', 'windowsOptions'];
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    errs.push({
      field: `${path}.${key}`,
      message: hardening.includes(key)
        ? 'cannot be set: kfn always runs functions without privilege escalation, with every capability dropped but NET_BIND_SERVICE, and with the RuntimeDefault seccomp profile'
        : 'unknown field',
    });
  }
}

// ---- small checks ------------------------------------------------------------------------

function checkList(errs: Errs, field: string, v: unknown, node: StructuralSchema, what: string): unknown[] | undefined {
  if (v == null) return undefined;
  if (!Array.isArray(v)) {
    errs.push({ field, message: `must be a list of ${what}, got ${show(v)}` });
    return undefined;
  }
  const max = bound(node, 'maxItems');
  if (v.length > max) errs.push({ field, message: `must have at most ${max} entries, got ${v.length}` });
  return v as unknown[];
}

function checkMap(errs: Errs, field: string, v: unknown, node: StructuralSchema): Fields | undefined {
  if (v == null) return undefined;
  if (!isMapping(v)) {
    errs.push({ field, message: `must be a mapping of keys to strings, got ${show(v)}` });
    return undefined;
  }
  // A null value is pruned, as the API server prunes it (a real one accepts `a: null`
  // among pod annotations), so it is neither checked nor counted.
  const entries = Object.entries(v).filter(([, value]) => value !== null);
  const max = bound(node, 'maxProperties');
  if (entries.length > max) errs.push({ field, message: `must have at most ${max} entries, got ${entries.length}` });
  return Object.fromEntries(entries);
}

/** True when `v` is a valid value of `node` (its pattern, then its maxLength); a missing required value is reported too. */
function checkPattern(errs: Errs, field: string, v: unknown, node: StructuralSchema, what: string, required = false): boolean {
  if (v == null) {
    if (required) errs.push({ field, message: `required: ${what}` });
    return false;
  }
  if (typeof v !== 'string' || !patternOf(node).test(v)) {
    errs.push({ field, message: `must be ${what}, got ${show(v)}` });
    return false;
  }
  const maxLength = bound(node, 'maxLength');
  if (v.length > maxLength) {
    errs.push({ field, message: `must be at most ${maxLength} characters, got ${v.length}` });
    return false;
  }
  return true;
}

function checkObjectName(errs: Errs, field: string, v: unknown, node: StructuralSchema, required: boolean): boolean {
  return checkPattern(errs, field, v, node, "the name of an object in the Function's namespace (a DNS-1123 subdomain)", required);
}

function checkBoolean(errs: Errs, field: string, v: unknown): void {
  if (v != null && typeof v !== 'boolean') errs.push({ field, message: `must be true or false, got ${show(v)}` });
}

function checkEnum(errs: Errs, field: string, v: unknown, values: readonly string[]): void {
  if (v != null && (typeof v !== 'string' || !values.includes(v))) {
    errs.push({ field, message: `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${show(v)}` });
  }
}

/** Exactly one of `keys` set; reports at `field` and returns false otherwise. */
function exactlyOne(errs: Errs, field: string, obj: Fields, keys: readonly string[]): boolean {
  const set = keys.filter((k) => obj[k] != null);
  if (set.length === 1) return true;
  const list = `${keys.slice(0, -1).join(', ')} or ${keys[keys.length - 1]}`;
  errs.push({ field, message: set.length === 0 ? `set exactly one of ${list}` : `set exactly one of ${list}, got ${set.join(' and ')}` });
  return false;
}

/** Reported at the entry (`spec.volumes[1]`), as the API server reports a duplicate list-map key. */
function unique(errs: Errs, key: string, v: string, seen: Map<string, number>, list: string, i: number): boolean {
  const first = seen.get(v);
  if (first !== undefined) {
    errs.push({ field: `${list}[${i}]`, message: `duplicate ${key} ${JSON.stringify(v)}, already at ${list}[${first}]` });
    return false;
  }
  seen.set(v, i);
  return true;
}

function hasDotDot(p: string): boolean {
  return p.split('/').includes('..');
}

function checkRelativePath(errs: Errs, field: string, v: unknown, node: StructuralSchema, required: boolean): void {
  const max = bound(node, 'maxLength');
  if (v == null) {
    if (required) errs.push({ field, message: 'required: a relative path such as config.json' });
    return;
  }
  if (typeof v !== 'string' || v.startsWith('/') || hasDotDot(v) || v.length > max || (v.length < (node.minLength ?? 0))) {
    errs.push({ field, message: `must be a relative path of at most ${max} characters with no '..' component, got ${show(v)}` });
  }
}

/** A label or annotation key: an optional DNS subdomain prefix and '/', then a name of at most 63 characters. */
function checkLabelKey(errs: Errs, field: string, key: string): boolean {
  // The pattern bounds the name; the prefix's own limit (253) is checked apart.
  const ok = LABEL_KEY_RE.test(key) && key.length <= LABEL_KEY_MAX_LENGTH && key.lastIndexOf('/') <= 253;
  if (!ok) {
    errs.push({
      field,
      message: `key must be a name of at most 63 letters, digits, '-', '_' and '.' (starting and ending with a letter or digit), with an optional DNS subdomain prefix and '/', got ${show(key)}`,
    });
  }
  return ok;
}

function checkLabelValue(errs: Errs, field: string, v: unknown): void {
  if (v == null) return;
  if (typeof v !== 'string') errs.push({ field, message: `must be a string (quote numbers and booleans), got ${show(v)}` });
  else if (v.length > bound(LABEL_VALUE, 'maxLength') || !patternOf(LABEL_VALUE).test(v)) {
    errs.push({ field, message: `must be at most ${bound(LABEL_VALUE, 'maxLength')} letters, digits, '-', '_' and '.', starting and ending with a letter or digit, got ${show(v)}` });
  }
}
