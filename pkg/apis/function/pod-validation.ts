// The rules of a Function's pod-level fields (service account, env sources, volumes,
// scheduling, pod metadata, liveness probe, security contexts). Same contract as
// validation.ts: config/200-crd-function.yaml states the same rules, and
// test/apis/crd-agreement.test.ts holds the two together. The few rules the CRD cannot
// afford in CEL (the syntax of map keys, whose length a CRD cannot bound, and the byte
// size of all annotations) are checked only here; on a cluster the controller runs this
// too and reports them as InvalidSpec, creating nothing.
import type { FieldError } from '../meta.js';
import { checkNumber, isMapping, rejectUnknownFields, requireMapping, show, type Fields, type NumberRange } from '../checks.js';

// ---- bounds (the CRD has the same maxItems / maxLength / maxProperties) ----------------

export const POD_LIMITS = {
  imagePullSecrets: 16,
  envFrom: 16,
  volumes: 32,
  volumeMounts: 32,
  /** items of a secret or configMap volume. */
  keyToPaths: 64,
  projectedSources: 16,
  tolerations: 32,
  nodeSelector: 32,
  labels: 64,
  annotations: 64,
  supplementalGroups: 32,
} as const;

/** Names of Secrets, ConfigMaps, claims and ServiceAccounts: DNS-1123 subdomains. */
export const OBJECT_NAME_MAX_LENGTH = 253;
export const VOLUME_NAME_MAX_LENGTH = 63;
/** Secret and ConfigMap keys. */
export const KEY_MAX_LENGTH = 253;
export const PATH_MAX_LENGTH = 1024;
export const PREFIX_MAX_LENGTH = 128;
/** Quantities (divisor, sizeLimit). */
export const QUANTITY_MAX_LENGTH = 64;
export const FIELD_PATH_MAX_LENGTH = 512;
/** A qualified name: a DNS subdomain prefix (253), '/', a name (63). */
export const LABEL_KEY_MAX_LENGTH = 317;
export const LABEL_VALUE_MAX_LENGTH = 63;
export const ANNOTATION_VALUE_MAX_LENGTH = 4096;
/** Kubernetes' limit on the keys and values of all annotations of an object, in bytes. */
export const ANNOTATIONS_TOTAL_MAX_BYTES = 256 * 1024;
/** Largest uid or gid Kubernetes accepts. */
export const ID_RANGE: NumberRange = { integer: true, min: 0, max: 2147483647 };
/** File modes, 0777 (511) at most. kfn dev reads YAML 1.2, where 0644 is decimal 644 and refused: write 420. */
export const MODE_RANGE: NumberRange = { integer: true, min: 0, max: 0o777 };
export const TOLERATION_SECONDS_RANGE: NumberRange = { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER };

// ---- syntax (the CRD uses the same patterns) -----------------------------------------

export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const CONFIG_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';
export const LABEL_VALUE_PATTERN = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$';
/** The pod fields the kubelet can put into an env var (Kubernetes' validEnvDownwardAPIFieldPathExpressions). */
export const ENV_FIELD_PATH_PATTERN =
  "^(metadata\\.(name|namespace|uid)|metadata\\.(labels|annotations)\\['[^']+'\\]|spec\\.(nodeName|serviceAccountName)|status\\.(hostIP|hostIPs|podIP|podIPs))$";
export const RESOURCE_PATTERN = '^(limits|requests)\\.(cpu|memory|ephemeral-storage|hugepages-[-A-Za-z0-9.]+)$';
export const ENV_PREFIX_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
/** A quantity as Kubernetes writes one: 500m, 1Gi, 2e3. */
export const QUANTITY_PATTERN = '^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?$';
/** The one container of a Function's pod (names.ts CONTAINER_NAME). */
export const CONTAINER_NAME = 'user-container';

const DNS_SUBDOMAIN_RE = new RegExp(DNS_SUBDOMAIN_PATTERN);
const DNS_LABEL_RE = new RegExp(DNS_LABEL_PATTERN);
const CONFIG_KEY_RE = new RegExp(CONFIG_KEY_PATTERN);
const LABEL_VALUE_RE = new RegExp(LABEL_VALUE_PATTERN);
const ENV_FIELD_PATH_RE = new RegExp(ENV_FIELD_PATH_PATTERN);
const RESOURCE_RE = new RegExp(RESOURCE_PATTERN);
const ENV_PREFIX_RE = new RegExp(ENV_PREFIX_PATTERN);
const QUANTITY_RE = new RegExp(QUANTITY_PATTERN);
const QUALIFIED_NAME = '(([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]';
/** Label and annotation keys: an optional DNS subdomain prefix and '/', then a name of at most 63 characters. */
export const LABEL_KEY_PATTERN = `^${QUALIFIED_NAME}$`;
/** A toleration's key may also be empty (with operator Exists: every taint). */
export const TOLERATION_KEY_PATTERN = `^(${QUALIFIED_NAME})?$`;
const LABEL_KEY_RE = new RegExp(LABEL_KEY_PATTERN);

/** Keys kfn puts on every pod itself; a Function may not set or override them. */
export const RESERVED_LABEL_KEYS = ['app.kubernetes.io/managed-by', 'app.kubernetes.io/name'];
export const RESERVED_KEY_PREFIX = 'kfn.dev/';

/** Volume sources that read the node's own storage or devices; refused with a reason. */
const NODE_LEVEL_VOLUMES = [
  'hostPath', 'local', 'nfs', 'iscsi', 'rbd', 'cephfs', 'glusterfs', 'fc', 'flexVolume', 'flocker', 'gitRepo',
  'awsElasticBlockStore', 'gcePersistentDisk', 'azureDisk', 'azureFile', 'cinder', 'vsphereVolume', 'quobyte',
  'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'storageos',
];
export const VOLUME_SOURCES = ['secret', 'configMap', 'emptyDir', 'persistentVolumeClaim', 'projected'] as const;

export const TOLERATION_OPERATORS = ['Exists', 'Equal'];
export const TOLERATION_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
export const AFFINITY_FIELDS = ['nodeAffinity', 'podAffinity', 'podAntiAffinity'];
export const EMPTY_DIR_MEDIUMS = ['', 'Memory'];

type Errs = FieldError[];

// ---- entry point -------------------------------------------------------------------------

/** Every problem with the pod-level fields of `spec`. */
export function validatePodFields(errs: Errs, spec: Fields): void {
  checkPattern(errs, 'spec.serviceAccountName', spec.serviceAccountName, DNS_SUBDOMAIN_RE, OBJECT_NAME_MAX_LENGTH, 'a DNS-1123 subdomain (lowercase letters, digits, \'-\' and \'.\')');
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
  const sources = ['secretKeyRef', 'configMapKeyRef', 'fieldRef', 'resourceFieldRef'];
  rejectUnknownFields(errs, path, v, sources);
  if (!exactlyOne(errs, path, v, sources)) return;
  for (const kind of ['secretKeyRef', 'configMapKeyRef']) {
    const ref = v[kind];
    if (ref == null || !requireMapping(errs, `${path}.${kind}`, ref)) continue;
    rejectUnknownFields(errs, `${path}.${kind}`, ref, ['name', 'key', 'optional']);
    checkObjectName(errs, `${path}.${kind}.name`, ref.name, true);
    checkPattern(errs, `${path}.${kind}.key`, ref.key, CONFIG_KEY_RE, KEY_MAX_LENGTH, "a key of letters, digits, '-', '_' and '.'", true);
    checkBoolean(errs, `${path}.${kind}.optional`, ref.optional);
  }
  const { fieldRef, resourceFieldRef } = v;
  if (fieldRef != null && requireMapping(errs, `${path}.fieldRef`, fieldRef)) {
    rejectUnknownFields(errs, `${path}.fieldRef`, fieldRef, ['fieldPath', 'apiVersion']);
    checkPattern(errs, `${path}.fieldRef.fieldPath`, fieldRef.fieldPath, ENV_FIELD_PATH_RE, FIELD_PATH_MAX_LENGTH,
      "one of metadata.name, metadata.namespace, metadata.uid, metadata.labels['<key>'], metadata.annotations['<key>'], spec.nodeName, spec.serviceAccountName, status.hostIP(s), status.podIP(s)", true);
    if (fieldRef.apiVersion != null && fieldRef.apiVersion !== 'v1') errs.push({ field: `${path}.fieldRef.apiVersion`, message: `must be "v1", got ${show(fieldRef.apiVersion)}` });
  }
  if (resourceFieldRef != null && requireMapping(errs, `${path}.resourceFieldRef`, resourceFieldRef)) {
    const at = `${path}.resourceFieldRef`;
    rejectUnknownFields(errs, at, resourceFieldRef, ['resource', 'divisor', 'containerName']);
    checkPattern(errs, `${at}.resource`, resourceFieldRef.resource, RESOURCE_RE, QUANTITY_MAX_LENGTH, 'limits.<name> or requests.<name> of cpu, memory, ephemeral-storage or hugepages-<size>', true);
    checkPattern(errs, `${at}.divisor`, resourceFieldRef.divisor, QUANTITY_RE, QUANTITY_MAX_LENGTH, 'a quoted quantity such as "1Mi" or "1m"');
    const c = resourceFieldRef.containerName;
    if (c != null && c !== CONTAINER_NAME) errs.push({ field: `${at}.containerName`, message: `must be "${CONTAINER_NAME}" (the only container of a Function's pod) or unset, got ${show(c)}` });
  }
}

// ---- parts ---------------------------------------------------------------------------------

function validateImagePullSecrets(errs: Errs, v: unknown): void {
  const list = checkList(errs, 'spec.imagePullSecrets', v, POD_LIMITS.imagePullSecrets, '{name} entries');
  const seen = new Map<string, number>();
  list?.forEach((entry, i) => {
    const at = `spec.imagePullSecrets[${i}]`;
    if (!requireMapping(errs, at, entry)) return;
    rejectUnknownFields(errs, at, entry, ['name']);
    if (checkObjectName(errs, `${at}.name`, entry.name, true)) unique(errs, 'name', entry.name as string, seen, 'spec.imagePullSecrets', i);
  });
}

function validateEnvFrom(errs: Errs, v: unknown): void {
  const list = checkList(errs, 'spec.envFrom', v, POD_LIMITS.envFrom, '{secretRef} or {configMapRef} entries');
  list?.forEach((entry, i) => {
    const at = `spec.envFrom[${i}]`;
    if (!requireMapping(errs, at, entry)) return;
    rejectUnknownFields(errs, at, entry, ['prefix', 'secretRef', 'configMapRef']);
    checkPattern(errs, `${at}.prefix`, entry.prefix, ENV_PREFIX_RE, PREFIX_MAX_LENGTH, "letters, digits and '_', not starting with a digit");
    if (!exactlyOne(errs, at, entry, ['secretRef', 'configMapRef'])) return;
    for (const kind of ['secretRef', 'configMapRef']) {
      const ref = entry[kind];
      if (ref == null || !requireMapping(errs, `${at}.${kind}`, ref)) continue;
      rejectUnknownFields(errs, `${at}.${kind}`, ref, ['name', 'optional']);
      checkObjectName(errs, `${at}.${kind}.name`, ref.name, true);
      checkBoolean(errs, `${at}.${kind}.optional`, ref.optional);
    }
  });
}

/** The valid volume names, for the mounts to refer to. */
function validateVolumes(errs: Errs, v: unknown): Set<string> {
  const names = new Set<string>();
  const list = checkList(errs, 'spec.volumes', v, POD_LIMITS.volumes, '{name, <source>} entries');
  const seen = new Map<string, number>();
  list?.forEach((vol, i) => {
    const at = `spec.volumes[${i}]`;
    if (!requireMapping(errs, at, vol)) return;
    let otherSource = false;
    for (const key of Object.keys(vol)) {
      if (key === 'name' || (VOLUME_SOURCES as readonly string[]).includes(key)) continue;
      otherSource = true;
      errs.push({
        field: `${at}.${key}`,
        message: NODE_LEVEL_VOLUMES.includes(key)
          ? `${key} volumes are not allowed: they reach storage of the node or outside the namespace (a host-escape risk), and the restricted Pod Security profile refuses them; use ${VOLUME_SOURCES.join(', ')}`
          : `unknown field: a volume is one of ${VOLUME_SOURCES.join(', ')}${key === 'downwardAPI' ? ' (use projected with a downwardAPI source)' : ''}`,
      });
    }
    if (checkPattern(errs, `${at}.name`, vol.name, DNS_LABEL_RE, VOLUME_NAME_MAX_LENGTH, "a DNS-1123 label (lowercase letters, digits and '-')", true)) {
      if (unique(errs, 'name', vol.name as string, seen, 'spec.volumes', i)) names.add(vol.name as string);
    }
    // A volume of only hostPath gets one error, about hostPath, not also "set one of".
    if (otherSource && VOLUME_SOURCES.every((k) => vol[k] == null)) return;
    if (!exactlyOne(errs, at, vol, VOLUME_SOURCES)) return;
    const { secret, configMap, emptyDir, persistentVolumeClaim, projected } = vol;
    if (secret != null && requireMapping(errs, `${at}.secret`, secret)) {
      rejectUnknownFields(errs, `${at}.secret`, secret, ['secretName', 'items', 'defaultMode', 'optional']);
      checkObjectName(errs, `${at}.secret.secretName`, secret.secretName, true);
      checkKeyToPaths(errs, `${at}.secret.items`, secret.items);
      checkNumber(errs, `${at}.secret.defaultMode`, secret.defaultMode, MODE_RANGE);
      checkBoolean(errs, `${at}.secret.optional`, secret.optional);
    }
    if (configMap != null && requireMapping(errs, `${at}.configMap`, configMap)) {
      rejectUnknownFields(errs, `${at}.configMap`, configMap, ['name', 'items', 'defaultMode', 'optional']);
      checkObjectName(errs, `${at}.configMap.name`, configMap.name, true);
      checkKeyToPaths(errs, `${at}.configMap.items`, configMap.items);
      checkNumber(errs, `${at}.configMap.defaultMode`, configMap.defaultMode, MODE_RANGE);
      checkBoolean(errs, `${at}.configMap.optional`, configMap.optional);
    }
    if (emptyDir != null && requireMapping(errs, `${at}.emptyDir`, emptyDir)) {
      rejectUnknownFields(errs, `${at}.emptyDir`, emptyDir, ['medium', 'sizeLimit']);
      checkEnum(errs, `${at}.emptyDir.medium`, emptyDir.medium, EMPTY_DIR_MEDIUMS);
      checkPattern(errs, `${at}.emptyDir.sizeLimit`, emptyDir.sizeLimit, QUANTITY_RE, QUANTITY_MAX_LENGTH, 'a quoted quantity such as "64Mi"');
    }
    if (persistentVolumeClaim != null && requireMapping(errs, `${at}.persistentVolumeClaim`, persistentVolumeClaim)) {
      rejectUnknownFields(errs, `${at}.persistentVolumeClaim`, persistentVolumeClaim, ['claimName', 'readOnly']);
      checkObjectName(errs, `${at}.persistentVolumeClaim.claimName`, persistentVolumeClaim.claimName, true);
      checkBoolean(errs, `${at}.persistentVolumeClaim.readOnly`, persistentVolumeClaim.readOnly);
    }
    if (projected != null && requireMapping(errs, `${at}.projected`, projected)) {
      rejectUnknownFields(errs, `${at}.projected`, projected, ['sources', 'defaultMode']);
      if (projected.sources == null) errs.push({ field: `${at}.projected.sources`, message: 'required: a list of secret, configMap, downwardAPI or serviceAccountToken sources' });
      const sources = checkList(errs, `${at}.projected.sources`, projected.sources, POD_LIMITS.projectedSources, 'mappings');
      sources?.forEach((src, j) => {
        // The sources themselves are passed through: the API server checks them.
        if (!isMapping(src)) errs.push({ field: `${at}.projected.sources[${j}]`, message: `must be a mapping, got ${show(src)}` });
      });
      checkNumber(errs, `${at}.projected.defaultMode`, projected.defaultMode, MODE_RANGE);
    }
  });
  return names;
}

function checkKeyToPaths(errs: Errs, path: string, v: unknown): void {
  const list = checkList(errs, path, v, POD_LIMITS.keyToPaths, '{key, path} entries');
  list?.forEach((item, i) => {
    const at = `${path}[${i}]`;
    if (!requireMapping(errs, at, item)) return;
    rejectUnknownFields(errs, at, item, ['key', 'path', 'mode']);
    checkPattern(errs, `${at}.key`, item.key, CONFIG_KEY_RE, KEY_MAX_LENGTH, "a key of letters, digits, '-', '_' and '.'", true);
    checkRelativePath(errs, `${at}.path`, item.path, true);
    checkNumber(errs, `${at}.mode`, item.mode, MODE_RANGE);
  });
}

function validateVolumeMounts(errs: Errs, v: unknown, volumes: Set<string>): void {
  const list = checkList(errs, 'spec.volumeMounts', v, POD_LIMITS.volumeMounts, '{name, mountPath} entries');
  const seen = new Map<string, number>();
  list?.forEach((m, i) => {
    const at = `spec.volumeMounts[${i}]`;
    if (!requireMapping(errs, at, m)) return;
    rejectUnknownFields(errs, at, m, ['name', 'mountPath', 'readOnly', 'subPath']);
    if (m.name == null) errs.push({ field: `${at}.name`, message: 'required: the name of a volume in spec.volumes' });
    else if (typeof m.name !== 'string' || !volumes.has(m.name)) {
      errs.push({ field: `${at}.name`, message: `must name a volume in spec.volumes, got ${show(m.name)}` });
    }
    if (m.mountPath == null) errs.push({ field: `${at}.mountPath`, message: 'required: an absolute path such as /etc/config' });
    else if (typeof m.mountPath !== 'string' || !m.mountPath.startsWith('/') || m.mountPath.length > PATH_MAX_LENGTH || hasDotDot(m.mountPath)) {
      errs.push({ field: `${at}.mountPath`, message: `must be an absolute path of at most ${PATH_MAX_LENGTH} characters with no '..' component, got ${show(m.mountPath)}` });
    } else unique(errs, 'mountPath', m.mountPath, seen, 'spec.volumeMounts', i);
    checkBoolean(errs, `${at}.readOnly`, m.readOnly);
    checkRelativePath(errs, `${at}.subPath`, m.subPath, false);
  });
}

function validateNodeSelector(errs: Errs, v: unknown): void {
  const map = checkMap(errs, 'spec.nodeSelector', v, POD_LIMITS.nodeSelector);
  if (!map) return;
  for (const [key, value] of Object.entries(map)) {
    checkLabelKey(errs, `spec.nodeSelector.${key}`, key);
    checkLabelValue(errs, `spec.nodeSelector.${key}`, value);
  }
}

function validateTolerations(errs: Errs, v: unknown): void {
  const list = checkList(errs, 'spec.tolerations', v, POD_LIMITS.tolerations, '{key, operator, value, effect} entries');
  list?.forEach((t, i) => {
    const at = `spec.tolerations[${i}]`;
    if (!requireMapping(errs, at, t)) return;
    rejectUnknownFields(errs, at, t, ['key', 'operator', 'value', 'effect', 'tolerationSeconds']);
    const { key, operator, value, effect, tolerationSeconds } = t;
    if (key != null && typeof key !== 'string') errs.push({ field: `${at}.key`, message: `must be a string, got ${show(key)}` });
    else if (key != null && key !== '') checkLabelKey(errs, `${at}.key`, key);
    checkEnum(errs, `${at}.operator`, operator, TOLERATION_OPERATORS);
    checkLabelValue(errs, `${at}.value`, value);
    checkEnum(errs, `${at}.effect`, effect, TOLERATION_EFFECTS);
    checkNumber(errs, `${at}.tolerationSeconds`, tolerationSeconds, TOLERATION_SECONDS_RANGE);
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
  rejectUnknownFields(errs, 'spec.affinity', v, AFFINITY_FIELDS);
  for (const key of AFFINITY_FIELDS) {
    if (v[key] != null && !isMapping(v[key])) errs.push({ field: `spec.affinity.${key}`, message: `must be a mapping, got ${show(v[key])}` });
  }
}

function validatePodMetadata(errs: Errs, v: unknown): void {
  if (v == null || !requireMapping(errs, 'spec.podMetadata', v)) return;
  rejectUnknownFields(errs, 'spec.podMetadata', v, ['labels', 'annotations']);
  const labels = checkMap(errs, 'spec.podMetadata.labels', v.labels, POD_LIMITS.labels);
  for (const [key, value] of Object.entries(labels ?? {})) {
    const at = `spec.podMetadata.labels.${key}`;
    if (checkLabelKey(errs, at, key)) checkReserved(errs, 'spec.podMetadata.labels', key, RESERVED_LABEL_KEYS);
    checkLabelValue(errs, at, value);
  }
  const annotations = checkMap(errs, 'spec.podMetadata.annotations', v.annotations, POD_LIMITS.annotations);
  let bytes = 0;
  for (const [key, value] of Object.entries(annotations ?? {})) {
    const at = `spec.podMetadata.annotations.${key}`;
    if (checkLabelKey(errs, at, key)) checkReserved(errs, 'spec.podMetadata.annotations', key, []);
    if (typeof value !== 'string') errs.push({ field: at, message: `must be a string (quote numbers and booleans), got ${show(value)}` });
    else if (value.length > ANNOTATION_VALUE_MAX_LENGTH) errs.push({ field: at, message: `must be at most ${ANNOTATION_VALUE_MAX_LENGTH} characters, got ${value.length}` });
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
  if (container != null && requireMapping(errs, 'spec.securityContext', container)) {
    rejectUnknownSecurityFields(errs, 'spec.securityContext', container, ['runAsNonRoot', 'runAsUser', 'runAsGroup', 'readOnlyRootFilesystem']);
    checkBoolean(errs, 'spec.securityContext.runAsNonRoot', container.runAsNonRoot);
    checkNumber(errs, 'spec.securityContext.runAsUser', container.runAsUser, ID_RANGE);
    checkNumber(errs, 'spec.securityContext.runAsGroup', container.runAsGroup, ID_RANGE);
    checkBoolean(errs, 'spec.securityContext.readOnlyRootFilesystem', container.readOnlyRootFilesystem);
  }
  if (pod != null && requireMapping(errs, 'spec.podSecurityContext', pod)) {
    rejectUnknownSecurityFields(errs, 'spec.podSecurityContext', pod, ['runAsNonRoot', 'runAsUser', 'runAsGroup', 'fsGroup', 'supplementalGroups']);
    checkBoolean(errs, 'spec.podSecurityContext.runAsNonRoot', pod.runAsNonRoot);
    checkNumber(errs, 'spec.podSecurityContext.runAsUser', pod.runAsUser, ID_RANGE);
    checkNumber(errs, 'spec.podSecurityContext.runAsGroup', pod.runAsGroup, ID_RANGE);
    checkNumber(errs, 'spec.podSecurityContext.fsGroup', pod.fsGroup, ID_RANGE);
    const groups = checkList(errs, 'spec.podSecurityContext.supplementalGroups', pod.supplementalGroups, POD_LIMITS.supplementalGroups, 'group ids');
    groups?.forEach((g, i) => checkNumber(errs, `spec.podSecurityContext.supplementalGroups[${i}]`, g, ID_RANGE));
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

function checkList(errs: Errs, field: string, v: unknown, max: number, what: string): unknown[] | undefined {
  if (v == null) return undefined;
  if (!Array.isArray(v)) {
    errs.push({ field, message: `must be a list of ${what}, got ${show(v)}` });
    return undefined;
  }
  if (v.length > max) errs.push({ field, message: `must have at most ${max} entries, got ${v.length}` });
  return v as unknown[];
}

function checkMap(errs: Errs, field: string, v: unknown, max: number): Fields | undefined {
  if (v == null) return undefined;
  if (!isMapping(v)) {
    errs.push({ field, message: `must be a mapping of keys to strings, got ${show(v)}` });
    return undefined;
  }
  const n = Object.keys(v).length;
  if (n > max) errs.push({ field, message: `must have at most ${max} entries, got ${n}` });
  return v;
}

/** True when `v` is a valid value; a missing required value is reported too. */
function checkPattern(errs: Errs, field: string, v: unknown, re: RegExp, maxLength: number, what: string, required = false): boolean {
  if (v == null) {
    if (required) errs.push({ field, message: `required: ${what}` });
    return false;
  }
  if (typeof v !== 'string' || !re.test(v)) {
    errs.push({ field, message: `must be ${what}, got ${show(v)}` });
    return false;
  }
  if (v.length > maxLength) {
    errs.push({ field, message: `must be at most ${maxLength} characters, got ${v.length}` });
    return false;
  }
  return true;
}

function checkObjectName(errs: Errs, field: string, v: unknown, required: boolean): boolean {
  return checkPattern(errs, field, v, DNS_SUBDOMAIN_RE, OBJECT_NAME_MAX_LENGTH, "the name of an object in the Function's namespace (a DNS-1123 subdomain)", required);
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

function checkRelativePath(errs: Errs, field: string, v: unknown, required: boolean): void {
  if (v == null) {
    if (required) errs.push({ field, message: 'required: a relative path such as config.json' });
    return;
  }
  if (typeof v !== 'string' || v.startsWith('/') || hasDotDot(v) || v.length > PATH_MAX_LENGTH || (required && v === '')) {
    errs.push({ field, message: `must be a relative path of at most ${PATH_MAX_LENGTH} characters with no '..' component, got ${show(v)}` });
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
  else if (v.length > LABEL_VALUE_MAX_LENGTH || !LABEL_VALUE_RE.test(v)) {
    errs.push({ field, message: `must be at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, got ${show(v)}` });
  }
}
