// The Function resource, defined once: config/200-crd-function.yaml is generated from
// this (`npm run gen:crds`), types.ts infers its types from it, and validation.ts and
// pod-validation.ts read their bounds, patterns, enums and field lists from it.
//
// CEL messages start with the field they are about ("spec.scale.max: ..."), because the
// API server reports a rule at the schema node that holds it (spec.scale), not at the
// field a person has to change; test/apis/crd-agreement.test.ts checks that prefix.
//
// Every list, map and string a rule or the pod reads is bounded (maxItems, maxProperties,
// maxLength), so the API server's CEL cost estimates stay small and a manifest cannot grow
// without limit. Uniqueness is a list-map key (x-kubernetes-list-type: map), never a
// pairwise CEL rule (O(n^2) in the cost estimate); server-side apply then merges entries
// by that key too. What CEL cannot afford (the syntax of map keys, whose length a CRD
// cannot bound; the byte size of all annotations) is checked by the controller with the
// same code as kfn dev: the Function becomes InvalidSpec and nothing is created.
// Descriptions say where that is the case.
import { conditionsSchema, durationSchema, nameRules, type CrdSource } from '../schema.js';
import { DEFAULT_CONTAINER_CONCURRENCY, DEFAULT_PORT, DEFAULT_TIMEOUT_SECONDS } from './defaults.js';

// ---- syntax --------------------------------------------------------------------------------

export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const CONFIG_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';
export const LABEL_VALUE_PATTERN = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$';
/** The pod fields the kubelet can put into an env var (Kubernetes' validEnvDownwardAPIFieldPathExpressions). */
export const ENV_FIELD_PATH_PATTERN =
  "^(metadata\\.(name|namespace|uid)|metadata\\.(labels|annotations)\\['[^']+'\\]|spec\\.(nodeName|serviceAccountName)|status\\.(hostIP|hostIPs|podIP|podIPs))$";
export const RESOURCE_PATTERN = '^(limits|requests)\\.(cpu|memory|ephemeral-storage|hugepages-[-A-Za-z0-9.]+)$';
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
/** A quantity as Kubernetes writes one: 500m, 1Gi, 2e3. */
export const QUANTITY_PATTERN = '^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?$';
const QUALIFIED_NAME = '(([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]';
/** Label and annotation keys: an optional DNS subdomain prefix and '/', then a name of at most 63 characters. */
export const LABEL_KEY_PATTERN = `^${QUALIFIED_NAME}$`;
/** A toleration's key may also be empty (with operator Exists: every taint). */
export const TOLERATION_KEY_PATTERN = `^(${QUALIFIED_NAME})?$`;
/** A qualified name: a DNS subdomain prefix (253), '/', a name (63). */
export const LABEL_KEY_MAX_LENGTH = 317;
/** The one container of a Function's pod (names.ts CONTAINER_NAME). */
export const CONTAINER_NAME = 'user-container';
/** Keys kfn puts on every pod itself; a Function may not set or override them. */
export const RESERVED_LABEL_KEYS = ['app.kubernetes.io/managed-by', 'app.kubernetes.io/name'] as const;
export const RESERVED_KEY_PREFIX = 'kfn.dev/';
/** Largest uid or gid Kubernetes accepts. */
const ID_MAX = 2147483647;
/** A '..' path component, in RE2 (CEL) and JavaScript alike. */
const DOT_DOT = '(^|/)[.][.](/|$)';

// ---- pieces used more than once -------------------------------------------------------------

/** The name of a Secret, ConfigMap, claim or ServiceAccount: a DNS-1123 subdomain. */
const objectName = <const D extends string>(description: D) =>
  ({ type: 'string', maxLength: 253, pattern: DNS_SUBDOMAIN_PATTERN, description }) as const;

const configKey = <const D extends string>(description: D) =>
  ({ type: 'string', maxLength: 253, pattern: CONFIG_KEY_PATTERN, description }) as const;

const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;

const id = <const D extends string>(description: D) => ({ type: 'integer', minimum: 0, maximum: ID_MAX, description }) as const;

const fileMode = { type: 'integer', minimum: 0, maximum: 511 } as const;
const defaultMode = {
  ...fileMode,
  description: 'Mode of the files, 0 to 511 (0777); default 420 (0644). Write it in decimal: kfn dev reads YAML 1.2, where 0644 is not octal.',
} as const;

const quantity = <const D extends string>(description: D) => ({ type: 'string', maxLength: 64, pattern: QUANTITY_PATTERN, description }) as const;

/** `items` of a secret or configMap volume. */
const keyToPaths = (at: string) =>
  ({
    type: 'array',
    maxItems: 64,
    description: 'Only these keys, each at its own path; every key when unset.',
    items: {
      type: 'object',
      description: 'One key and the file it becomes.',
      required: ['key', 'path'],
      properties: {
        key: configKey('The key.'),
        path: {
          type: 'string',
          minLength: 1,
          maxLength: 1024,
          description: "Relative path of the file in the volume; no '..' component.",
          'x-kubernetes-validations': [
            { rule: `!self.startsWith("/") && !self.matches("${DOT_DOT}")`, message: `${at}.items[*].path: must be a relative path with no '..' component` },
          ],
        },
        mode: { ...fileMode, description: 'File mode, 0 to 511 (0777), in decimal as for defaultMode; defaultMode when unset.' },
      },
    },
  }) as const;

/** A readiness or liveness probe; `what` is Ready or Alive. */
const probe = <const W extends string>(field: string, what: W) =>
  ({
    'x-kubernetes-validations': [{ rule: '!(has(self.httpGet) && has(self.tcpSocket))', message: `${field}: set only one of httpGet or tcpSocket` }],
    properties: {
      httpGet: {
        type: 'object',
        description: `${what} when a GET of this path answers 2xx or 3xx.`,
        properties: {
          path: { type: 'string', pattern: '^/', description: "Path to GET, starting with '/'." },
          port: { ...port, description: 'Port to probe; spec.port when unset.' },
        },
      },
      tcpSocket: {
        type: 'object',
        description: `${what} when a TCP connection to the port succeeds.`,
        properties: { port: { ...port, description: 'Port to probe; spec.port when unset.' } },
      },
      initialDelaySeconds: { type: 'integer', minimum: 0, description: 'Seconds after start before the first probe.' },
      timeoutSeconds: { type: 'integer', minimum: 0, description: 'Seconds one probe may take.' },
    },
  }) as const;

const readinessProbe = probe('spec.readinessProbe', 'Ready');
const livenessProbe = probe('spec.livenessProbe', 'Alive');

// ---- the spec ------------------------------------------------------------------------------

const scale = {
  type: 'object',
  description: "How the autoscaler sizes the function. Unset fields take the autoscaler's cluster-wide defaults.",
  'x-kubernetes-validations': [
    { rule: '!has(self.max) || self.max == 0 || !has(self.min) || self.min <= self.max', message: 'spec.scale.max: must be >= spec.scale.min' },
  ],
  properties: {
    min: { type: 'integer', minimum: 0, description: 'Fewest replicas, even with no traffic. Default 0 (scale to zero).' },
    max: { type: 'integer', minimum: 0, description: 'Most replicas; 0 means no upper bound. Default 0.' },
    initial: { type: 'integer', minimum: 0, description: 'Replicas on create, before any traffic has been seen. Default 1.' },
    metric: {
      type: 'string',
      enum: ['concurrency', 'rps'],
      description:
        'What the autoscaler measures and target is in: concurrency (requests in flight, queued ones included) or rps (requests arriving per second), as Knative\'s KPA. Default concurrency.',
    },
    target: {
      type: 'number',
      minimum: 0.01,
      // A real kube-apiserver compares a whole-number value with `minimum` cut to a whole
      // number, so 0 passed `minimum: 0.01` there (the test in test/envtest/ found it). The
      // rule says it for every value.
      'x-kubernetes-validations': [{ rule: 'self >= 0.01', message: 'spec.scale.target: must be >= 0.01' }],
      description:
        'Per replica, what the autoscaler aims at in the unit of metric: concurrent requests (default 100, capped by containerConcurrency when that is set) or requests per second (default 200).',
    },
    targetUtilization: { type: 'number', minimum: 1, maximum: 100, description: 'Percent of target to actually aim at, leaving headroom for bursts. Default 70.' },
    window: durationSchema('spec.scale.window', '6s', '1h', 'Stable window the average concurrency is taken over, from 6s to 1h. Default 60s.'),
    panicWindowPercentage: { type: 'number', minimum: 1, maximum: 100, description: 'Panic window as a percent of the stable window. Default 10.' },
    panicThreshold: {
      type: 'number',
      minimum: 110,
      maximum: 1000,
      description: 'Enter panic mode (scale up at once, never down) when panic-window demand reaches this percent of ready capacity. Default 200.',
    },
    scaleToZeroGracePeriod: durationSchema(
      'spec.scale.scaleToZeroGracePeriod', '0s', '1h',
      'How long the last replica is kept after the decision to scale to zero, up to 1h. Default 30s.',
    ),
    scaleDownDelay: durationSchema('spec.scale.scaleDownDelay', '0s', '1h', 'Hold the highest recommendation this long before scaling down, up to 1h. Default 0s.'),
    maxScaleUpRate: {
      type: 'number', minimum: 1, exclusiveMinimum: true, description: 'One decision may grow to at most this many times the ready replicas. Default 1000.',
    },
    maxScaleDownRate: {
      type: 'number', minimum: 1, exclusiveMinimum: true, description: 'One decision may shrink to no fewer than ready replicas divided by this. Default 2.',
    },
  },
} as const;

// ---- requests: retries and load balancing ------------------------------------------------

/** An HTTP field name or cookie name: an RFC 9110 §5.6.2 token (RFC 6265 cookie-name is one too). */
export const HTTP_TOKEN_PATTERN = "^[-!#$%&'*+.^_`|~0-9A-Za-z]+$";
export const LOAD_BALANCING_POLICIES = ['default', 'leastRequest', 'consistentHash'] as const;

const retries = {
  type: 'object',
  description:
    'When the activator may send a failed request to another replica. A request whose connection failed before a byte of it was written (refused, connect timeout) always goes to another replica; any other failure answers 502 naming it, unless idempotent is true.',
  properties: {
    idempotent: {
      type: 'boolean',
      description:
        "true: this function's GET, HEAD, OPTIONS, TRACE, PUT and DELETE handlers are idempotent (RFC 9110 §9.2.2: two identical requests have the effect of one), so such a request whose connection broke after it may have reached the replica (reset, closed) is sent once more to another replica. Default false: it gets 502.",
    },
  },
} as const;

const hashOn = <const D extends string>(description: D) => ({ type: 'string', minLength: 1, maxLength: 256, pattern: HTTP_TOKEN_PATTERN, description }) as const;

const loadBalancing = {
  type: 'object',
  description: "How the activator spreads one function's requests over its ready replicas, and which replicas it stops using for a while (outlierDetection).",
  'x-kubernetes-validations': [
    { rule: "!has(self.consistentHash) || (has(self.policy) && self.policy == 'consistentHash')", message: 'spec.loadBalancing.consistentHash: set it only with policy consistentHash' },
    { rule: "!has(self.policy) || self.policy != 'consistentHash' || has(self.consistentHash)", message: 'spec.loadBalancing.consistentHash: required with policy consistentHash (set header, cookie or clientAddress)' },
    { rule: "!has(self.leastRequest) || (has(self.policy) && self.policy == 'leastRequest')", message: 'spec.loadBalancing.leastRequest: set it only with policy leastRequest' },
  ],
  properties: {
    policy: {
      type: 'string',
      enum: LOAD_BALANCING_POLICIES,
      description:
        'default: by containerConcurrency (first available up to 3, round robin with free slots above, power of two choices when unlimited); leastRequest: the fewest requests in flight among choiceCount replicas drawn at random (Envoy LEAST_REQUEST); consistentHash: one key (header, cookie or client address) always goes to the same replica while it is ready and has a free slot (sticky sessions, rendezvous hashing). Default default.',
    },
    leastRequest: {
      type: 'object',
      description: 'Settings of policy leastRequest.',
      properties: {
        choiceCount: { type: 'integer', minimum: 2, maximum: 16, description: 'Replicas drawn at random per request, from 2 to 16; the one with the fewest requests in flight wins. Default 2 (power of two choices).' },
      },
    },
    consistentHash: {
      type: 'object',
      description: 'What policy consistentHash hashes: exactly one of header, cookie or clientAddress. A request without it is balanced as by policy default.',
      'x-kubernetes-validations': [
        {
          rule: '(has(self.header) ? 1 : 0) + (has(self.cookie) ? 1 : 0) + (has(self.clientAddress) && self.clientAddress ? 1 : 0) == 1',
          message: 'spec.loadBalancing.consistentHash: set exactly one of header, cookie or clientAddress: true',
        },
      ],
      properties: {
        header: hashOn('Name of the request header whose value is the key, e.g. x-user-id; case does not matter. An HTTP token of at most 256 characters.'),
        cookie: hashOn('Name of the cookie whose value is the key, e.g. session. A cookie name (an HTTP token) of at most 256 characters.'),
        clientAddress: {
          type: 'boolean',
          description: "true: the key is the IP address of the client's connection to the activator (behind a proxy or ingress, that is the proxy: hash on a header it sets instead).",
        },
      },
    },
    outlierDetection: {
      type: 'object',
      description:
        'Stop sending requests to a replica that failed consecutive5xx times in a row (a 5xx answer or a failed connection), for baseEjectionTime × the times it was ejected, up to maxEjectionTime; as Envoy outlier detection. At most maxEjectionPercent of the replicas are out at once, at least one may be, and never all of them. Off when unset.',
      properties: {
        consecutive5xx: { type: 'integer', minimum: 1, maximum: 1000, description: 'Failures in a row that eject a replica, from 1 to 1000. Default 5.' },
        baseEjectionTime: durationSchema('spec.loadBalancing.outlierDetection.baseEjectionTime', '1s', '1h', 'How long the first ejection lasts, from 1s to 1h; each later one of the same replica lasts that much longer. Default 30s.'),
        maxEjectionTime: durationSchema('spec.loadBalancing.outlierDetection.maxEjectionTime', '1s', '1h', 'Longest an ejection lasts, from 1s to 1h, and never below baseEjectionTime. Default 300s.'),
        maxEjectionPercent: { type: 'integer', minimum: 0, maximum: 100, description: 'Most replicas out at once, in percent (rounded down, but one may always be; never all). Default 10.' },
      },
    },
  },
} as const;

const valueFrom = {
  type: 'object',
  description:
    'Where the value comes from: exactly one of secretKeyRef, configMapKeyRef, fieldRef or resourceFieldRef. The kubelet resolves it on a cluster; in local mode (kfn dev) the variable is left unset and a warning is logged.',
  'x-kubernetes-validations': [
    {
      rule: '(has(self.secretKeyRef) ? 1 : 0) + (has(self.configMapKeyRef) ? 1 : 0) + (has(self.fieldRef) ? 1 : 0) + (has(self.resourceFieldRef) ? 1 : 0) == 1',
      message: 'spec.env[*].valueFrom: set exactly one of secretKeyRef, configMapKeyRef, fieldRef or resourceFieldRef',
    },
  ],
  properties: {
    secretKeyRef: {
      type: 'object',
      description: "A key of a Secret in the Function's namespace.",
      required: ['name', 'key'],
      properties: {
        name: objectName('Name of the Secret. A DNS-1123 subdomain.'),
        key: configKey('Key in the Secret.'),
        optional: { type: 'boolean', description: 'When true, a missing Secret or key leaves the variable unset instead of failing the start.' },
      },
    },
    configMapKeyRef: {
      type: 'object',
      description: "A key of a ConfigMap in the Function's namespace.",
      required: ['name', 'key'],
      properties: {
        name: objectName('Name of the ConfigMap. A DNS-1123 subdomain.'),
        key: configKey('Key in the ConfigMap.'),
        optional: { type: 'boolean', description: 'When true, a missing ConfigMap or key leaves the variable unset instead of failing the start.' },
      },
    },
    fieldRef: {
      type: 'object',
      description: 'A field of the pod.',
      required: ['fieldPath'],
      properties: {
        fieldPath: {
          type: 'string',
          maxLength: 512,
          pattern: ENV_FIELD_PATH_PATTERN,
          description:
            "metadata.name, metadata.namespace, metadata.uid, metadata.labels['<key>'], metadata.annotations['<key>'], spec.nodeName, spec.serviceAccountName, status.hostIP(s) or status.podIP(s).",
        },
        apiVersion: { type: 'string', enum: ['v1'], description: 'Version of the schema the path is written in; only v1.' },
      },
    },
    resourceFieldRef: {
      type: 'object',
      description: "A request or limit of the function's container.",
      required: ['resource'],
      properties: {
        resource: {
          type: 'string',
          maxLength: 64,
          pattern: RESOURCE_PATTERN,
          description: 'limits.<name> or requests.<name>, with cpu, memory, ephemeral-storage or hugepages-<size>.',
        },
        divisor: quantity('Unit of the value, a quoted quantity such as "1Mi" or "1m". Default 1.'),
        containerName: {
          type: 'string',
          enum: [CONTAINER_NAME],
          description: "The function's container, user-container; the only one, so it may be left unset.",
        },
      },
    },
  },
} as const;

const env = {
  type: 'array',
  // The CEL rules over env are only accepted by the API server when the list and the
  // names are bounded (the rule cost is estimated from maxItems/maxLength).
  maxItems: 100,
  description: 'Environment variables of the container. PORT is not allowed: kfn sets it from spec.port.',
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['name'],
  items: {
    type: 'object',
    description: 'One environment variable.',
    required: ['name'],
    'x-kubernetes-validations': [
      { rule: "!has(self.name) || self.name != 'PORT'", message: 'spec.env[*].name: PORT is set by kfn from spec.port; set spec.port instead' },
      { rule: '!(has(self.value) && has(self.valueFrom))', message: 'spec.env[*].valueFrom: may not be set together with value; keep one of them' },
    ],
    properties: {
      name: { type: 'string', maxLength: 128, pattern: ENV_NAME_PATTERN, description: "Name of the variable; letters, digits and '_', not starting with a digit." },
      value: { type: 'string', description: 'Value of the variable. Quote numbers and booleans.' },
      valueFrom,
    },
  },
} as const;

const envFromRef = <const W extends string>(what: W) =>
  ({
    type: 'object',
    description: `A ${what} in the Function's namespace whose every key becomes a variable.`,
    required: ['name'],
    properties: {
      name: objectName(`Name of the ${what}. A DNS-1123 subdomain.`),
      optional: { type: 'boolean', description: `When true, a missing ${what} is ignored instead of failing the start.` },
    },
  }) as const;

const envFrom = {
  type: 'array',
  maxItems: 16,
  description: 'Every key of a Secret or ConfigMap as an environment variable. Not available in local mode (kfn dev logs a warning).',
  items: {
    type: 'object',
    description: 'Exactly one of secretRef or configMapRef.',
    'x-kubernetes-validations': [
      { rule: '(has(self.secretRef) ? 1 : 0) + (has(self.configMapRef) ? 1 : 0) == 1', message: 'spec.envFrom[*]: set exactly one of secretRef or configMapRef' },
    ],
    properties: {
      prefix: { type: 'string', maxLength: 128, pattern: ENV_NAME_PATTERN, description: "Put before every key; letters, digits and '_', not starting with a digit." },
      secretRef: envFromRef('Secret'),
      configMapRef: envFromRef('ConfigMap'),
    },
  },
} as const;

const volumes = {
  type: 'array',
  maxItems: 32,
  description:
    'Volumes of the pod: secret, configMap, emptyDir, persistentVolumeClaim or projected only. hostPath and other node-level volumes are refused (a host-escape risk, and the restricted Pod Security profile forbids them). Not available in local mode (kfn dev logs a warning).',
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['name'],
  items: {
    type: 'object',
    description: 'One volume: a name and exactly one source.',
    required: ['name'],
    'x-kubernetes-validations': [
      {
        rule: '(has(self.secret) ? 1 : 0) + (has(self.configMap) ? 1 : 0) + (has(self.emptyDir) ? 1 : 0) + (has(self.persistentVolumeClaim) ? 1 : 0) + (has(self.projected) ? 1 : 0) == 1',
        message:
          'spec.volumes[*]: set exactly one of secret, configMap, emptyDir, persistentVolumeClaim or projected (hostPath and other node-level volumes are not allowed: they can reach the node, a host-escape risk, and the restricted Pod Security profile refuses them)',
      },
    ],
    properties: {
      name: {
        type: 'string',
        maxLength: 63,
        pattern: DNS_LABEL_PATTERN,
        description: "Name the mounts refer to; a DNS-1123 label (lowercase letters, digits and '-'), unique.",
      },
      secret: {
        type: 'object',
        description: 'The keys of a Secret as files.',
        required: ['secretName'],
        properties: {
          secretName: objectName('Name of the Secret. A DNS-1123 subdomain.'),
          items: keyToPaths('spec.volumes[*].secret'),
          defaultMode,
          optional: { type: 'boolean', description: 'When true, a missing Secret gives an empty volume instead of failing the start.' },
        },
      },
      configMap: {
        type: 'object',
        description: 'The keys of a ConfigMap as files.',
        required: ['name'],
        properties: {
          name: objectName('Name of the ConfigMap. A DNS-1123 subdomain.'),
          items: keyToPaths('spec.volumes[*].configMap'),
          defaultMode,
          optional: { type: 'boolean', description: 'When true, a missing ConfigMap gives an empty volume instead of failing the start.' },
        },
      },
      emptyDir: {
        type: 'object',
        description: 'A directory that lives as long as the pod.',
        properties: {
          medium: { type: 'string', enum: ['', 'Memory'], description: '"" for the node\'s default storage, Memory for a tmpfs.' },
          sizeLimit: quantity('Most space it may use, a quoted quantity such as "64Mi".'),
        },
      },
      persistentVolumeClaim: {
        type: 'object',
        description: "A PersistentVolumeClaim in the Function's namespace.",
        required: ['claimName'],
        properties: {
          claimName: objectName('Name of the claim. A DNS-1123 subdomain.'),
          readOnly: { type: 'boolean', description: 'Mount it read-only.' },
        },
      },
      projected: {
        type: 'object',
        description: 'Several sources in one directory.',
        required: ['sources'],
        properties: {
          sources: {
            type: 'array',
            maxItems: 16,
            description:
              'secret, configMap, downwardAPI or serviceAccountToken sources, passed to the pod as written; the API server checks them when the Deployment is written.',
            items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'One source.' },
          },
          defaultMode,
        },
      },
    },
  },
} as const;

const volumeMounts = {
  type: 'array',
  maxItems: 32,
  description: 'Where the volumes appear in the container; each name must be a volume of spec.volumes.',
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['mountPath'],
  items: {
    type: 'object',
    description: 'Where a volume appears in the container.',
    required: ['name', 'mountPath'],
    properties: {
      name: { type: 'string', maxLength: 63, description: 'A volume of spec.volumes.' },
      mountPath: {
        type: 'string',
        maxLength: 1024,
        pattern: '^/',
        'x-kubernetes-validations': [{ rule: `!self.matches("${DOT_DOT}")`, message: "spec.volumeMounts[*].mountPath: may not have a '..' component" }],
        description: "Absolute path in the container; no '..' component; unique.",
      },
      readOnly: { type: 'boolean', description: 'Mount it read-only.' },
      subPath: {
        type: 'string',
        maxLength: 1024,
        'x-kubernetes-validations': [
          { rule: `!self.startsWith("/") && !self.matches("${DOT_DOT}")`, message: "spec.volumeMounts[*].subPath: must be a relative path with no '..' component" },
        ],
        description: "Mount only this relative path of the volume; no '..' component.",
      },
    },
  },
} as const;

const KEYS_BY_CONTROLLER =
  'The syntax of the keys is checked by the kfn controller, not by this schema (a CRD cannot bound the length of map keys, which CEL needs to afford a regular expression)';

const labelValue = { type: 'string', maxLength: 63, pattern: LABEL_VALUE_PATTERN } as const;

const tolerations = {
  type: 'array',
  maxItems: 32,
  description: 'Taints the pods tolerate. Ignored in local mode.',
  items: {
    type: 'object',
    description: 'One taint the pods tolerate.',
    'x-kubernetes-validations': [
      { rule: "!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''", message: 'spec.tolerations[*].value: must be empty when operator is Exists' },
      { rule: "(has(self.key) && self.key != '') || (has(self.operator) && self.operator == 'Exists')", message: 'spec.tolerations[*].operator: must be Exists when key is empty' },
      { rule: "!has(self.tolerationSeconds) || (has(self.effect) && self.effect == 'NoExecute')", message: 'spec.tolerations[*].tolerationSeconds: may only be set with effect NoExecute' },
    ],
    properties: {
      key: {
        type: 'string',
        maxLength: LABEL_KEY_MAX_LENGTH,
        pattern: TOLERATION_KEY_PATTERN,
        description: 'Taint key (a label key); empty with operator Exists tolerates every taint.',
      },
      operator: { type: 'string', enum: ['Exists', 'Equal'], description: 'Exists or Equal (default).' },
      value: { ...labelValue, description: 'Taint value to match with Equal; empty with Exists.' },
      effect: { type: 'string', enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'], description: 'NoSchedule, PreferNoSchedule or NoExecute; every effect when unset.' },
      tolerationSeconds: {
        type: 'integer',
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER,
        description: 'With NoExecute only: how long a pod stays on a node after the taint appears.',
      },
    },
  },
} as const;

const passedThrough = <const D extends string>(description: D) =>
  ({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description }) as const;

const podMetadata = {
  type: 'object',
  description: `Labels and annotations put on every pod, beside kfn's own. Keys kfn sets itself are refused: ${RESERVED_KEY_PREFIX}*, ${RESERVED_LABEL_KEYS.join(' and ')} (labels). ${KEYS_BY_CONTROLLER}: a bad key makes the Function InvalidSpec and nothing is created. The byte size of all annotations (256 KiB, as Kubernetes) is checked there too.`,
  properties: {
    labels: {
      type: 'object',
      maxProperties: 64,
      description: 'Labels of the pods; values of at most 63 characters.',
      'x-kubernetes-validations': [
        {
          rule: `${RESERVED_LABEL_KEYS.map((k) => `!('${k}' in self)`).join(' && ')} && self.all(k, !k.startsWith('${RESERVED_KEY_PREFIX}'))`,
          message: `spec.podMetadata.labels: ${RESERVED_KEY_PREFIX}*, ${RESERVED_LABEL_KEYS.join(' and ')} are set by kfn itself`,
        },
      ],
      additionalProperties: labelValue,
    },
    annotations: {
      type: 'object',
      maxProperties: 64,
      description: 'Annotations of the pods; values of at most 4096 characters.',
      'x-kubernetes-validations': [
        { rule: `self.all(k, !k.startsWith('${RESERVED_KEY_PREFIX}'))`, message: `spec.podMetadata.annotations: ${RESERVED_KEY_PREFIX}* keys are set by kfn itself` },
      ],
      additionalProperties: { type: 'string', maxLength: 4096 },
    },
  },
} as const;

export const functionSpecSchema = {
  type: 'object',
  description: 'What to run and how to serve and scale it.',
  required: ['image'],
  // Rules across fields. Each costs at most volumeMounts x volumes name comparisons
  // (32 x 32), or a constant.
  'x-kubernetes-validations': [
    {
      rule: '!has(self.volumeMounts) || self.volumeMounts.all(m, has(self.volumes) && self.volumes.exists(v, v.name == m.name))',
      message: 'spec.volumeMounts[*].name: must name a volume in spec.volumes',
    },
    // The container's settings win over the pod's, as in Kubernetes; uid 0 with
    // runAsNonRoot would fail every start (CreateContainerConfigError).
    {
      rule:
        '!(has(self.securityContext) && has(self.securityContext.runAsUser) && self.securityContext.runAsUser == 0 && ' +
        '(has(self.securityContext.runAsNonRoot) ? self.securityContext.runAsNonRoot : ' +
        'has(self.podSecurityContext) && has(self.podSecurityContext.runAsNonRoot) && self.podSecurityContext.runAsNonRoot))',
      message: 'spec.securityContext.runAsUser: may not be 0 (root) with runAsNonRoot: true',
    },
    {
      rule:
        '!(has(self.podSecurityContext) && has(self.podSecurityContext.runAsUser) && self.podSecurityContext.runAsUser == 0 && ' +
        '!(has(self.securityContext) && has(self.securityContext.runAsUser)) && ' +
        '(has(self.securityContext) && has(self.securityContext.runAsNonRoot) ? self.securityContext.runAsNonRoot : ' +
        'has(self.podSecurityContext.runAsNonRoot) && self.podSecurityContext.runAsNonRoot))',
      message: 'spec.podSecurityContext.runAsUser: may not be 0 (root) with runAsNonRoot: true',
    },
  ],
  properties: {
    image: { type: 'string', minLength: 1, description: 'The container image to run, e.g. ghcr.io/acme/hello:1.0.' },
    command: { type: 'array', description: "Entrypoint of the container; the image's ENTRYPOINT when unset.", items: { type: 'string' } },
    args: { type: 'array', description: "Arguments to the entrypoint; the image's CMD when unset.", items: { type: 'string' } },
    workingDir: {
      type: 'string',
      description: 'Working directory of the container. In local mode (kfn dev) it is relative to the folder of the manifest.',
    },
    env,
    resources: {
      type: 'object',
      description: 'Compute resources of each replica, as for a Kubernetes container.',
      properties: {
        requests: { type: 'object', description: 'Resources each replica is guaranteed, e.g. cpu "100m", memory "64Mi".', additionalProperties: { type: 'string' } },
        limits: { type: 'object', description: 'Most resources each replica may use, e.g. cpu "1", memory "256Mi".', additionalProperties: { type: 'string' } },
      },
    },
    readinessProbe: {
      type: 'object',
      description: 'How kfn knows a replica can take requests. Without one, a replica is ready once it accepts TCP connections on spec.port.',
      'x-kubernetes-validations': readinessProbe['x-kubernetes-validations'],
      properties: {
        ...readinessProbe.properties,
        periodSeconds: { type: 'integer', minimum: 0, description: 'Seconds between probes; 0 probes as fast as possible until ready, as Knative does.' },
        failureThreshold: { type: 'integer', minimum: 1, description: 'Failed probes in a row before the replica counts as not ready.' },
        successThreshold: { type: 'integer', minimum: 1, description: 'Successful probes in a row before the replica counts as ready.' },
      },
    },
    port: { ...port, description: `Port the function listens on, passed to it as $PORT. Default ${DEFAULT_PORT}.` },
    // Knative's way: a container port named h2c gets HTTP/2 cleartext from the data path.
    portName: {
      type: 'string',
      enum: ['http1', 'h2c'],
      description:
        'The protocol the function speaks on spec.port, named as Knative names the container port: http1 (HTTP/1.1, the default) or h2c (HTTP/2 cleartext with prior knowledge, e.g. gRPC). An h2c function is called over HTTP/2 (prior knowledge), an http1 one over HTTP/1.1; the activator refuses the other with 501 unsupported_protocol rather than translate.',
    },
    containerConcurrency: {
      type: 'integer',
      minimum: 0,
      maximum: 1000,
      description: `Most requests one replica gets at a time; more wait in the activator. 0 means no limit. Default ${DEFAULT_CONTAINER_CONCURRENCY}.`,
    },
    timeoutSeconds: {
      type: 'integer', minimum: 1, maximum: 3600, description: `Longest a request may take, including waiting for a cold start. Default ${DEFAULT_TIMEOUT_SECONDS}.`,
    },
    scale,
    retries,
    loadBalancing,
    // The pod-level fields below only make sense on a cluster; local mode warns about the
    // ones that would change what the process sees (valueFrom, envFrom, volumeMounts).
    serviceAccountName: objectName("ServiceAccount the pods run as; the namespace's default when unset. Ignored in local mode. A DNS-1123 subdomain."),
    imagePullSecrets: {
      type: 'array',
      maxItems: 16,
      description: 'Secrets of type kubernetes.io/dockerconfigjson used to pull the image. Ignored in local mode.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: { type: 'object', description: 'A Secret by name.', required: ['name'], properties: { name: objectName('Name of the Secret. A DNS-1123 subdomain.') } },
    },
    envFrom,
    volumes,
    volumeMounts,
    nodeSelector: {
      type: 'object',
      maxProperties: 32,
      description: `Node labels a node must have to run the pods. ${KEYS_BY_CONTROLLER}: a bad key makes the Function InvalidSpec and nothing is created. Ignored in local mode.`,
      additionalProperties: labelValue,
    },
    tolerations,
    affinity: {
      type: 'object',
      description:
        "Node affinity, pod affinity and pod anti-affinity, as for a Kubernetes pod. Only these three keys are checked here; what is inside them is passed to the pod as written and checked by the API server when the Deployment is written (the Function's status shows its answer). Ignored in local mode.",
      properties: {
        nodeAffinity: passedThrough('Which nodes the pods prefer or require.'),
        podAffinity: passedThrough('Pods the pods should run near.'),
        podAntiAffinity: passedThrough('Pods the pods should not run near, e.g. to spread replicas over nodes.'),
      },
    },
    podMetadata,
    livenessProbe: {
      type: 'object',
      description:
        'When the kubelet restarts a replica: after failureThreshold failed probes in a row. None by default. Give it an initialDelaySeconds or a failureThreshold long enough for a cold start, or it kills replicas that are still starting. Ignored in local mode.',
      'x-kubernetes-validations': livenessProbe['x-kubernetes-validations'],
      properties: {
        ...livenessProbe.properties,
        periodSeconds: { type: 'integer', minimum: 0, description: "Seconds between probes; the kubelet's default (10) when unset or 0." },
        failureThreshold: { type: 'integer', minimum: 1, description: 'Failed probes in a row before the replica is restarted.' },
        successThreshold: { type: 'integer', minimum: 1, maximum: 1, description: 'Must be 1 for a liveness probe, as Kubernetes requires.' },
      },
    },
    securityContext: {
      type: 'object',
      description:
        "Security settings of the function's container. kfn always forbids privilege escalation, drops every capability but NET_BIND_SERVICE and uses the RuntimeDefault seccomp profile; these cannot be weakened. Set runAsNonRoot: true (and a runAsUser other than 0 if the image runs as root) to run in a namespace that enforces the restricted Pod Security profile. Ignored in local mode.",
      properties: {
        runAsNonRoot: { type: 'boolean', description: 'Refuse to start the container as root (uid 0); required by the restricted Pod Security profile.' },
        runAsUser: id("Uid to run as; not 0 with runAsNonRoot. The image's USER when unset."),
        runAsGroup: id('Primary gid to run as.'),
        readOnlyRootFilesystem: { type: 'boolean', description: "Mount the container's root filesystem read-only; write to an emptyDir volume instead." },
      },
    },
    podSecurityContext: {
      type: 'object',
      description: "Security settings of the pod; the container's securityContext wins where both are set. Ignored in local mode.",
      properties: {
        runAsNonRoot: { type: 'boolean', description: 'Refuse to start containers as root (uid 0).' },
        runAsUser: id('Uid to run as; not 0 with runAsNonRoot.'),
        runAsGroup: id('Primary gid to run as.'),
        fsGroup: id('Gid that owns the volumes and is added to the process.'),
        supplementalGroups: { type: 'array', maxItems: 32, description: 'More gids added to the process.', items: id('A gid.') },
      },
    },
  },
} as const;

export const functionStatusSchema = {
  type: 'object',
  description: 'What kfn observed; written by the controller.',
  properties: {
    url: { type: 'string', description: 'Where the function answers HTTP requests.' },
    replicas: { type: 'integer', description: 'Replicas that exist now, ready or not.' },
    readyReplicas: { type: 'integer', description: 'Replicas that pass their readiness probe.' },
    desiredReplicas: { type: 'integer', description: 'Replicas the autoscaler last asked for.' },
    restarts: { type: 'integer', description: 'Replicas that crashed and were restarted since the function was created.' },
    observedGeneration: { type: 'integer', description: 'The metadata.generation this status describes.' },
    conditions: conditionsSchema(
      'Ready, DeploymentReady and Active, each with a reason and message when not True.',
      'Ready, DeploymentReady or Active.',
      'CamelCase cause, e.g. ExitedAtStart or NoTraffic.',
      'function',
    ),
  },
} as const;

export const functionSchema = {
  type: 'object',
  description:
    'A Function is a container that kfn runs on demand: it is called over HTTP through the activator or by events through a Trigger, and scales between zero and spec.scale.max replicas from the concurrency it sees.',
  required: ['spec'],
  // The name becomes a host label (<name>.<namespace>.<domain>) and a Service name.
  'x-kubernetes-validations': nameRules('it becomes a DNS label'),
  properties: {
    apiVersion: { type: 'string', description: 'The versioned schema of this object; kfn.dev/v1alpha1.' },
    kind: { type: 'string', description: 'The kind of this object; Function.' },
    metadata: { type: 'object' },
    spec: functionSpecSchema,
    status: functionStatusSchema,
  },
} as const;

export const functionCrd: CrdSource = {
  file: 'config/200-crd-function.yaml',
  schemaFile: 'pkg/apis/function/schema.ts',
  header: [
    'The Function resource. Every list, map and string a CEL rule reads is bounded, so the',
    "API server's cost estimates stay small. What CEL cannot afford (the syntax of map keys,",
    'the byte size of all annotations) is checked by the kfn controller with the same',
    'validator as kfn dev: the Function becomes InvalidSpec and nothing is created.',
  ].join('\n'),
  kind: 'Function',
  plural: 'functions',
  shortNames: ['fn'],
  columns: [
    { name: 'URL', type: 'string', jsonPath: '.status.url' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
    { name: 'Replicas', type: 'integer', description: 'Replicas that exist now, ready or not.', jsonPath: '.status.replicas' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  schema: functionSchema,
};
