// The rules of a Function manifest. On a cluster the CRD, generated from ./schema.ts,
// enforces them; local mode has no API server, so this validator reads every bound,
// pattern and field list from the same schema and adds the messages and the rules across
// fields (which the CRD states in CEL). test/apis/crd-agreement.test.ts runs both over the
// same fixtures for what generation cannot prove: that the CEL rules and the checks here
// say the same thing.
import { formatFieldErrors, type FieldError } from '../meta.js';
import {
  checkNumber,
  checkStringMap,
  isMapping,
  dropNullFields,
  refOf,
  rejectUnknownFields,
  requireMapping,
  show,
  validateResource,
} from '../checks.js';
import { bound, checkDurations, checkNumbers, fieldsOf, patternOf, rangeOf } from '../schema.js';
import { validateEnvVarSource, validatePodFields } from './pod-validation.js';
import { validateRequests } from './requests-validation.js';
import { functionSpecSchema } from './schema.js';
import { FUNCTION_KIND, type KfnFunction } from './types.js';

const SPEC = functionSpecSchema;
const P = SPEC.properties;
const SCALE = P.scale;
const ENV = P.env;
const ENV_NAME = ENV.items.properties.name;
/** Both probes have the same fields and bounds but one: a liveness probe's successThreshold, which has its own message. */
const PROBE = P.readinessProbe;
const HTTP_GET = PROBE.properties.httpGet;
const TCP_SOCKET = PROBE.properties.tcpSocket;

/** Every problem with `obj` as a Function manifest; empty when it is valid. */
export function validateFunction(obj: unknown): FieldError[] {
  return validateResource(obj, FUNCTION_KIND, 'it becomes a DNS label', validateSpec);
}

export class FunctionValidationError extends Error {
  constructor(
    readonly fieldErrors: FieldError[],
    ref: string,
  ) {
    super(`invalid Function ${ref}: ${formatFieldErrors(fieldErrors)}`);
    this.name = 'FunctionValidationError';
  }
}

/**
 * The manifest as a KfnFunction, or a FunctionValidationError naming every problem.
 * Null fields are dropped, as the API server prunes them, so `scale:` with nothing
 * under it reads as "no scale settings" in both modes.
 */
export function assertValidFunction(obj: unknown): KfnFunction {
  const errors = validateFunction(obj);
  if (errors.length > 0) throw new FunctionValidationError(errors, refOf(obj));
  return dropNullFields(obj) as KfnFunction;
}

function validateSpec(errs: FieldError[], spec: unknown): void {
  if (!requireMapping(errs, 'spec', spec)) return;
  rejectUnknownFields(errs, 'spec', spec, fieldsOf(SPEC));
  if (spec.image == null) errs.push({ field: 'spec.image', message: 'required: the container image to run, e.g. "ghcr.io/acme/hello:1.0"' });
  else if (typeof spec.image !== 'string' || spec.image.length < (P.image.minLength ?? 0)) errs.push({ field: 'spec.image', message: `must be a non-empty string, got ${show(spec.image)}` });
  checkStringList(errs, 'spec.command', spec.command);
  checkStringList(errs, 'spec.args', spec.args);
  if (spec.workingDir != null && typeof spec.workingDir !== 'string') {
    errs.push({ field: 'spec.workingDir', message: `must be a string, got ${show(spec.workingDir)}` });
  }
  validateEnv(errs, spec.env);
  validateResources(errs, spec.resources);
  validateProbe(errs, 'spec.readinessProbe', spec.readinessProbe);
  validateProbe(errs, 'spec.livenessProbe', spec.livenessProbe);
  const liveness = spec.livenessProbe;
  // Kubernetes refuses any other value for a liveness probe.
  if (isMapping(liveness) && liveness.successThreshold != null && liveness.successThreshold !== 1 && isCount(liveness.successThreshold)) {
    errs.push({ field: 'spec.livenessProbe.successThreshold', message: `must be 1 for a liveness probe, got ${show(liveness.successThreshold)}` });
  }
  checkNumbers(errs, 'spec', spec, SPEC);
  validateScale(errs, spec.scale);
  validateRequests(errs, spec);
  validatePodFields(errs, spec);
}

function validateEnv(errs: FieldError[], env: unknown): void {
  if (env == null) return;
  if (!Array.isArray(env)) {
    errs.push({ field: 'spec.env', message: `must be a list of {name, value} entries, got ${show(env)}` });
    return;
  }
  const maxItems = bound(ENV, 'maxItems');
  if (env.length > maxItems) errs.push({ field: 'spec.env', message: `must have at most ${maxItems} entries, got ${env.length}` });
  const nameMaxLength = bound(ENV_NAME, 'maxLength');
  const firstIndexOf = new Map<string, number>();
  env.forEach((entry: unknown, i) => {
    const path = `spec.env[${i}]`;
    if (!requireMapping(errs, path, entry)) return;
    rejectUnknownFields(errs, path, entry, fieldsOf(ENV.items));
    const { name, value, valueFrom } = entry;
    if (name == null) errs.push({ field: `${path}.name`, message: 'required' });
    else if (typeof name !== 'string' || !patternOf(ENV_NAME).test(name)) {
      errs.push({ field: `${path}.name`, message: `must be letters, digits and '_', not starting with a digit, got ${show(name)}` });
    } else if (name.length > nameMaxLength) {
      errs.push({ field: `${path}.name`, message: `must be at most ${nameMaxLength} characters, got ${name.length}` });
    } else if (name === 'PORT') {
      errs.push({ field: `${path}.name`, message: 'PORT is set by kfn from spec.port; set spec.port instead' });
    } else if (firstIndexOf.has(name)) {
      // Named at the entry, as the API server names a duplicate list-map key.
      errs.push({ field: path, message: `duplicate name "${name}", already set at spec.env[${firstIndexOf.get(name)}]` });
    } else {
      firstIndexOf.set(name, i);
    }
    if (value != null && typeof value !== 'string') {
      errs.push({ field: `${path}.value`, message: `must be a string (quote numbers and booleans: "8080", "true"), got ${show(value)}` });
    }
    if (value != null && valueFrom != null) errs.push({ field: `${path}.valueFrom`, message: 'may not be set together with value; keep one of them' });
    else if (valueFrom != null) validateEnvVarSource(errs, `${path}.valueFrom`, valueFrom);
  });
}

function validateResources(errs: FieldError[], resources: unknown): void {
  if (resources == null) return;
  if (!requireMapping(errs, 'spec.resources', resources)) return;
  rejectUnknownFields(errs, 'spec.resources', resources, fieldsOf(P.resources));
  const hint = 'quote quantities, e.g. "500m" or "1"';
  checkStringMap(errs, 'spec.resources.requests', resources.requests, hint);
  checkStringMap(errs, 'spec.resources.limits', resources.limits, hint);
}

function validateProbe(errs: FieldError[], path: string, probe: unknown): void {
  if (probe == null) return;
  if (!requireMapping(errs, path, probe)) return;
  rejectUnknownFields(errs, path, probe, fieldsOf(PROBE));
  const { httpGet, tcpSocket } = probe;
  if (httpGet != null && requireMapping(errs, `${path}.httpGet`, httpGet)) {
    rejectUnknownFields(errs, `${path}.httpGet`, httpGet, fieldsOf(HTTP_GET));
    const p = httpGet.path;
    if (p != null && (typeof p !== 'string' || !patternOf(HTTP_GET.properties.path).test(p))) {
      errs.push({ field: `${path}.httpGet.path`, message: `must be a path starting with "/", got ${show(p)}` });
    }
    checkNumber(errs, `${path}.httpGet.port`, httpGet.port, rangeOf(HTTP_GET.properties.port));
  }
  if (tcpSocket != null && requireMapping(errs, `${path}.tcpSocket`, tcpSocket)) {
    rejectUnknownFields(errs, `${path}.tcpSocket`, tcpSocket, fieldsOf(TCP_SOCKET));
    checkNumber(errs, `${path}.tcpSocket.port`, tcpSocket.port, rangeOf(TCP_SOCKET.properties.port));
  }
  if (httpGet != null && tcpSocket != null) errs.push({ field: path, message: 'set only one of httpGet or tcpSocket' });
  checkNumbers(errs, path, probe, PROBE);
}

function validateScale(errs: FieldError[], scale: unknown): void {
  if (scale == null) return;
  if (!requireMapping(errs, 'spec.scale', scale)) return;
  rejectUnknownFields(errs, 'spec.scale', scale, fieldsOf(SCALE));
  checkNumbers(errs, 'spec.scale', scale, SCALE);
  checkDurations(errs, 'spec.scale', scale, SCALE);
  const { min, max, metric } = scale;
  const metrics: readonly string[] = SCALE.properties.metric.enum;
  if (metric != null && (typeof metric !== 'string' || !metrics.includes(metric))) {
    errs.push({ field: 'spec.scale.metric', message: `must be one of ${metrics.map((m) => JSON.stringify(m)).join(', ')}, got ${show(metric)}` });
  }
  // Only compare two values that are each valid, so one mistake gives one error.
  if (isCount(min) && isCount(max) && max > 0 && min > max) {
    errs.push({ field: 'spec.scale.max', message: `must be >= spec.scale.min (${min}), or 0 for no upper bound, got ${max}` });
  }
}

function checkStringList(errs: FieldError[], field: string, v: unknown): void {
  if (v == null) return;
  if (!Array.isArray(v)) {
    errs.push({ field, message: `must be a list of strings, got ${show(v)}` });
    return;
  }
  v.forEach((item: unknown, i) => {
    if (typeof item !== 'string') errs.push({ field: `${field}[${i}]`, message: `must be a string (quote numbers: "8080"), got ${show(item)}` });
  });
}

/** Kubectl's strict field validation rejects unknown fields; so do we, since a typo would otherwise be ignored. */
function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

