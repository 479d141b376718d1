// The rules of a Trigger manifest, written as for the Function (pkg/apis/function/
// validation.ts): the CRD schema and its CEL rules enforce them on a cluster
// (config/210-crd-trigger.yaml), this file in local mode, and
// test/apis/trigger/crd-agreement.test.ts fails when the two disagree.
import { formatFieldErrors, type FieldError } from '../meta.js';
import { parseDuration } from '../../shared/duration.js';
import {
  checkNumber,
  dropNullFields,
  isMapping,
  NAME_MAX_LENGTH,
  NAME_RE,
  refOf,
  rejectUnknownFields,
  requireMapping,
  show,
  validateResource,
  checkDuration,
  type DurationRange,
  type NumberRange,
} from '../checks.js';

import { DEFAULT_BACKOFF_DELAY, DEFAULT_BACKOFF_MAX_DELAY, MAX_IN_FLIGHT_LIMIT } from './defaults.js';
import { hasWildcard, isLiteralSubject, isValidSubject, reservedSubjectProblem, subjectMatches, SUBJECT_MAX_LENGTH } from './subject.js';
import {
  TRIGGER_KIND, type AttributeFilter, type BackoffSpec, type DeliverySpec, type KfnTrigger, type TriggerSpec,
} from './types.js';

export const DELIVERY_NUMBER_RANGES = {
  retries: { integer: true, min: 0, max: 100 },
  maxInFlight: { integer: true, min: 1, max: MAX_IN_FLIGHT_LIMIT },
} satisfies Record<'retries' | 'maxInFlight', NumberRange>;

export const BACKOFF_DURATION_RANGES = {
  delay: { min: '0s', max: '1h' },
  maxDelay: { min: '0s', max: '1h' },
} satisfies Record<'delay' | 'maxDelay', DurationRange>;

export const DELIVERY_DURATION_RANGES = {
  timeout: { min: '1s', max: '1h' },
} satisfies Record<'timeout', DurationRange>;

export const BACKOFF_POLICIES: readonly NonNullable<BackoffSpec['policy']>[] = ['exponential', 'linear'];

/** CloudEvents attribute names: lowercase a-z and 0-9, at most 20 characters (CloudEvents 1.0). */
export const ATTRIBUTE_NAME_PATTERN = '^[a-z0-9]{1,20}$';
/**
 * Attributes per filter map. Bounded because the CRD's CEL rule over the names is only
 * accepted when its cost is, and mirrored here so local mode fails the same way.
 */
export const FILTER_MAX_ATTRIBUTES = 32;
// Same reason: attribute values have no meaning past this length.
export const FILTER_VALUE_MAX_LENGTH = 256;

/**
 * JetStream stream names: no whitespace, '.', wildcards or path separators (the name is a
 * directory of the file store). nats-server sets no length limit; 255 is the file system's.
 */
export const STREAM_NAME_PATTERN = '^[^. \\t\\r\\n\\f*>/\\\\]+$';
export const STREAM_NAME_MAX_LENGTH = 255;

const SPEC_FIELDS = Object.keys({
  subject: true, stream: true, filter: true, function: true, path: true, delivery: true, reply: true, orderingKey: true,
} satisfies Record<keyof TriggerSpec, true>);
const FILTER_FIELDS = Object.keys({ exact: true, prefix: true, suffix: true } satisfies Record<keyof AttributeFilter, true>);
const DELIVERY_FIELDS = Object.keys({
  retries: true, backoff: true, timeout: true, maxInFlight: true, deadLetterSubject: true,
} satisfies Record<keyof DeliverySpec, true>);
const BACKOFF_FIELDS = Object.keys({ policy: true, delay: true, maxDelay: true } satisfies Record<keyof BackoffSpec, true>);

const ATTRIBUTE_NAME_RE = new RegExp(ATTRIBUTE_NAME_PATTERN);
const STREAM_NAME_RE = new RegExp(STREAM_NAME_PATTERN);


/** Every problem with `obj` as a Trigger manifest; empty when it is valid. */
export function validateTrigger(obj: unknown): FieldError[] {
  return validateResource(obj, TRIGGER_KIND, 'it names a JetStream consumer', validateSpec);
}

export class TriggerValidationError extends Error {
  constructor(
    readonly fieldErrors: FieldError[],
    ref: string,
  ) {
    super(`invalid Trigger ${ref}: ${formatFieldErrors(fieldErrors)}`);
    this.name = 'TriggerValidationError';
  }
}

/** The manifest as a KfnTrigger, or a TriggerValidationError naming every problem. Null fields are dropped, as the API server prunes them. */
export function assertValidTrigger(obj: unknown): KfnTrigger {
  const errors = validateTrigger(obj);
  if (errors.length > 0) throw new TriggerValidationError(errors, refOf(obj));
  return dropNullFields(obj) as KfnTrigger;
}

function validateSpec(errs: FieldError[], spec: unknown): void {
  if (!requireMapping(errs, 'spec', spec)) return;
  rejectUnknownFields(errs, 'spec', spec, SPEC_FIELDS);
  const subject = spec.subject;
  if (subject == null) errs.push({ field: 'spec.subject', message: 'required: the NATS subject to listen on, e.g. "orders.>"' });
  else checkSubject(errs, 'spec.subject', subject, true);
  const validSubject = typeof subject === 'string' && isValidSubject(subject) ? subject : undefined;
  if (spec.stream != null) {
    const s = spec.stream;
    if (typeof s !== 'string' || !STREAM_NAME_RE.test(s) || s.length > STREAM_NAME_MAX_LENGTH) {
      errs.push({
        field: 'spec.stream',
        message: `must be a JetStream stream name: no whitespace, '.', '*', '>', '/' or '\\', at most ${STREAM_NAME_MAX_LENGTH} characters, got ${show(s)}`,
      });
    }
  }
  validateFilter(errs, spec.filter);
  const fn = spec.function;
  if (fn == null) errs.push({ field: 'spec.function', message: 'required: the name of a Function in the same namespace' });
  else if (typeof fn !== 'string' || !NAME_RE.test(fn) || fn.length > NAME_MAX_LENGTH) {
    errs.push({ field: 'spec.function', message: `must be the name of a Function (a DNS label starting with a letter), got ${show(fn)}` });
  }
  if (spec.path != null && (typeof spec.path !== 'string' || !spec.path.startsWith('/'))) {
    errs.push({ field: 'spec.path', message: `must be a path starting with "/", got ${show(spec.path)}` });
  }
  validateDelivery(errs, spec.delivery, validSubject);
  validateReply(errs, spec.reply, validSubject);
  if (spec.orderingKey != null && (typeof spec.orderingKey !== 'string' || !ATTRIBUTE_NAME_RE.test(spec.orderingKey))) {
    errs.push({ field: 'spec.orderingKey', message: `must be a CloudEvents attribute name (a-z and 0-9, at most 20 characters), got ${show(spec.orderingKey)}` });
  }
}

function validateFilter(errs: FieldError[], filter: unknown): void {
  if (filter == null) return;
  if (!requireMapping(errs, 'spec.filter', filter)) return;
  rejectUnknownFields(errs, 'spec.filter', filter, FILTER_FIELDS);
  let attributes = 0;
  for (const key of FILTER_FIELDS) {
    const field = `spec.filter.${key}`;
    const m = filter[key];
    if (m == null) continue;
    if (!isMapping(m)) {
      errs.push({ field, message: `must be a mapping of CloudEvents attribute names to strings, got ${show(m)}` });
      continue;
    }
    // Null values are pruned, as the API server does.
    const entries = Object.entries(m).filter(([, value]) => value !== null);
    attributes += entries.length;
    if (entries.length > FILTER_MAX_ATTRIBUTES) errs.push({ field, message: `must have at most ${FILTER_MAX_ATTRIBUTES} attributes, got ${entries.length}` });
    const badNames = entries.map(([name]) => name).filter((name) => !ATTRIBUTE_NAME_RE.test(name));
    if (badNames.length > 0) {
      errs.push({ field, message: `attribute names must be a-z and 0-9, at most 20 characters, got ${badNames.map((n) => JSON.stringify(n)).join(', ')}` });
    }
    for (const [name, value] of entries) {
      if (typeof value !== 'string') errs.push({ field: `${field}.${name}`, message: `must be a string (quote numbers and booleans), got ${show(value)}` });
      else if (value.length > FILTER_VALUE_MAX_LENGTH) errs.push({ field: `${field}.${name}`, message: `must be at most ${FILTER_VALUE_MAX_LENGTH} characters, got ${value.length}` });
    }
  }
  if (attributes === 0) errs.push({ field: 'spec.filter', message: 'set at least one attribute under exact, prefix or suffix, or leave the filter out' });
}

function validateDelivery(errs: FieldError[], delivery: unknown, subject: string | undefined): void {
  if (delivery == null) return;
  if (!requireMapping(errs, 'spec.delivery', delivery)) return;
  rejectUnknownFields(errs, 'spec.delivery', delivery, DELIVERY_FIELDS);
  for (const [key, range] of Object.entries(DELIVERY_NUMBER_RANGES)) checkNumber(errs, `spec.delivery.${key}`, delivery[key], range);
  for (const [key, range] of Object.entries(DELIVERY_DURATION_RANGES)) checkDuration(errs, `spec.delivery.${key}`, delivery[key], range);
  validateBackoff(errs, delivery.backoff);
  if (delivery.deadLetterSubject != null) {
    checkPublishSubject(errs, 'spec.delivery.deadLetterSubject', delivery.deadLetterSubject, subject, 'failed events would come back to this trigger');
  }
}

function validateBackoff(errs: FieldError[], backoff: unknown): void {
  if (backoff == null) return;
  if (!requireMapping(errs, 'spec.delivery.backoff', backoff)) return;
  rejectUnknownFields(errs, 'spec.delivery.backoff', backoff, BACKOFF_FIELDS);
  const { policy } = backoff;
  if (policy != null && !BACKOFF_POLICIES.includes(policy as never)) {
    errs.push({ field: 'spec.delivery.backoff.policy', message: `must be one of ${BACKOFF_POLICIES.join(', ')}, got ${show(policy)}` });
  }
  const delay = checkDuration(errs, 'spec.delivery.backoff.delay', backoff.delay, BACKOFF_DURATION_RANGES.delay);
  const maxDelay = checkDuration(errs, 'spec.delivery.backoff.maxDelay', backoff.maxDelay, BACKOFF_DURATION_RANGES.maxDelay);
  // Compared with the default of whichever is unset, so `delay: 2m` alone is caught too;
  // only valid values are compared, so one mistake gives one error.
  if (delay === null || maxDelay === null) return;
  const delayMs = delay ?? parseDuration(DEFAULT_BACKOFF_DELAY) ?? 0;
  const maxMs = maxDelay ?? parseDuration(DEFAULT_BACKOFF_MAX_DELAY) ?? 0;
  if (delayMs > maxMs) {
    const max = typeof backoff.maxDelay === 'string' ? backoff.maxDelay : `${DEFAULT_BACKOFF_MAX_DELAY}, the default`;
    errs.push({ field: 'spec.delivery.backoff.delay', message: `must be <= spec.delivery.backoff.maxDelay (${max}), got ${show(backoff.delay ?? DEFAULT_BACKOFF_DELAY)}` });
  }
}

function validateReply(errs: FieldError[], reply: unknown, subject: string | undefined): void {
  if (reply == null) return;
  if (!requireMapping(errs, 'spec.reply', reply)) return;
  rejectUnknownFields(errs, 'spec.reply', reply, ['subject']);
  if (reply.subject == null) errs.push({ field: 'spec.reply.subject', message: 'required: the NATS subject replies are published to' });
  else checkPublishSubject(errs, 'spec.reply.subject', reply.subject, subject, 'replies would come back to this trigger');
}

/** A subject kfn publishes to: valid, without wildcards, and not one this trigger listens on. */
function checkPublishSubject(errs: FieldError[], field: string, v: unknown, listenOn: string | undefined, loop: string): void {
  if (!checkSubject(errs, field, v, false)) return;
  const s = v as string;
  if (listenOn !== undefined && subjectMatches(listenOn, s)) {
    errs.push({ field, message: `must not be matched by spec.subject ("${listenOn}"): ${loop}, got ${show(s)}` });
  }
}

function checkSubject(errs: FieldError[], field: string, v: unknown, wildcards: boolean): boolean {
  if (typeof v !== 'string' || !isValidSubject(v)) {
    errs.push({
      field,
      message: `must be a NATS subject: tokens separated by '.', none empty, no whitespace, '*' and '>' only as whole tokens ('>' last), at most ${SUBJECT_MAX_LENGTH} characters, got ${show(v)}`,
    });
    return false;
  }
  if (!wildcards && (hasWildcard(v) || !isLiteralSubject(v))) {
    errs.push({ field, message: `must not contain the wildcards '*' or '>': kfn publishes to it, got ${show(v)}` });
    return false;
  }
  const reserved = reservedSubjectProblem(v);
  if (reserved !== undefined) {
    errs.push({ field, message: `${reserved}, got ${show(v)}` });
    return false;
  }
  return true;
}


/** Kubectl's strict field validation rejects unknown fields; so do we, since a typo would otherwise be ignored. */
