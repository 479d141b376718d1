// The rules of a Trigger manifest, written as for the Function (pkg/apis/function/
// validation.ts): the CRD generated from ./schema.ts enforces them on a cluster, this file
// in local mode, reading every bound, pattern, enum and field list from that schema;
// test/apis/trigger/crd-agreement.test.ts proves the CEL rules and the checks here agree.
import { formatFieldErrors, type FieldError } from '../meta.js';
import { parseDuration } from '../../shared/duration.js';
import {
  dropNullFields,
  isMapping,
  refOf,
  rejectUnknownFields,
  requireMapping,
  show,
  validateResource,
} from '../checks.js';
import { bound, checkDurations, checkNumbers, fieldsOf, patternOf } from '../schema.js';
import { DEFAULT_BACKOFF_DELAY, DEFAULT_BACKOFF_MAX_DELAY } from './defaults.js';
import { ATTRIBUTE_NAME_PATTERN, triggerSpecSchema } from './schema.js';
import { hasWildcard, isLiteralSubject, isValidSubject, reservedSubjectProblem, subjectMatches, SUBJECT_MAX_LENGTH } from './subject.js';
import { TRIGGER_KIND, type KfnTrigger } from './types.js';

const SPEC = triggerSpecSchema;
const P = SPEC.properties;
const FILTER = P.filter;
const DELIVERY = P.delivery;
const BACKOFF = DELIVERY.properties.backoff;
/** exact, prefix and suffix have one schema. */
const ATTRIBUTES = FILTER.properties.exact;
const ATTRIBUTE_NAME_RE = new RegExp(ATTRIBUTE_NAME_PATTERN);

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
  rejectUnknownFields(errs, 'spec', spec, fieldsOf(SPEC));
  const subject = spec.subject;
  if (subject == null) errs.push({ field: 'spec.subject', message: 'required: the NATS subject to listen on, e.g. "orders.>"' });
  else checkSubject(errs, 'spec.subject', subject, true);
  const validSubject = typeof subject === 'string' && isValidSubject(subject) ? subject : undefined;
  if (spec.stream != null) {
    const s = spec.stream;
    const maxLength = bound(P.stream, 'maxLength');
    if (typeof s !== 'string' || !patternOf(P.stream).test(s) || s.length > maxLength) {
      errs.push({
        field: 'spec.stream',
        message: `must be a JetStream stream name: no whitespace, '.', '*', '>', '/' or '\\', at most ${maxLength} characters, got ${show(s)}`,
      });
    }
  }
  validateFilter(errs, spec.filter);
  const fn = spec.function;
  if (fn == null) errs.push({ field: 'spec.function', message: 'required: the name of a Function in the same namespace' });
  else if (typeof fn !== 'string' || !patternOf(P.function).test(fn) || fn.length > bound(P.function, 'maxLength')) {
    errs.push({ field: 'spec.function', message: `must be the name of a Function (a DNS label starting with a letter), got ${show(fn)}` });
  }
  if (spec.path != null && (typeof spec.path !== 'string' || !patternOf(P.path).test(spec.path))) {
    errs.push({ field: 'spec.path', message: `must be a path starting with "/", got ${show(spec.path)}` });
  }
  validateDelivery(errs, spec.delivery, validSubject);
  validateReply(errs, spec.reply, validSubject);
  if (spec.orderingKey != null && (typeof spec.orderingKey !== 'string' || !patternOf(P.orderingKey).test(spec.orderingKey))) {
    errs.push({ field: 'spec.orderingKey', message: `must be a CloudEvents attribute name (a-z and 0-9, at most 20 characters), got ${show(spec.orderingKey)}` });
  }
}

function validateFilter(errs: FieldError[], filter: unknown): void {
  if (filter == null) return;
  if (!requireMapping(errs, 'spec.filter', filter)) return;
  const maps = fieldsOf(FILTER);
  rejectUnknownFields(errs, 'spec.filter', filter, maps);
  const maxAttributes = bound(ATTRIBUTES, 'maxProperties');
  const valueMaxLength = bound(ATTRIBUTES.additionalProperties, 'maxLength');
  let attributes = 0;
  for (const key of maps) {
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
    if (entries.length > maxAttributes) errs.push({ field, message: `must have at most ${maxAttributes} attributes, got ${entries.length}` });
    const badNames = entries.map(([name]) => name).filter((name) => !ATTRIBUTE_NAME_RE.test(name));
    if (badNames.length > 0) {
      errs.push({ field, message: `attribute names must be a-z and 0-9, at most 20 characters, got ${badNames.map((n) => JSON.stringify(n)).join(', ')}` });
    }
    for (const [name, value] of entries) {
      if (typeof value !== 'string') errs.push({ field: `${field}.${name}`, message: `must be a string (quote numbers and booleans), got ${show(value)}` });
      else if (value.length > valueMaxLength) errs.push({ field: `${field}.${name}`, message: `must be at most ${valueMaxLength} characters, got ${value.length}` });
    }
  }
  if (attributes === 0) errs.push({ field: 'spec.filter', message: 'set at least one attribute under exact, prefix or suffix, or leave the filter out' });
}

function validateDelivery(errs: FieldError[], delivery: unknown, subject: string | undefined): void {
  if (delivery == null) return;
  if (!requireMapping(errs, 'spec.delivery', delivery)) return;
  rejectUnknownFields(errs, 'spec.delivery', delivery, fieldsOf(DELIVERY));
  checkNumbers(errs, 'spec.delivery', delivery, DELIVERY);
  checkDurations(errs, 'spec.delivery', delivery, DELIVERY);
  validateBackoff(errs, delivery.backoff);
  if (delivery.deadLetterSubject != null) {
    checkPublishSubject(errs, 'spec.delivery.deadLetterSubject', delivery.deadLetterSubject, subject, 'failed events would come back to this trigger');
  }
}

function validateBackoff(errs: FieldError[], backoff: unknown): void {
  if (backoff == null) return;
  if (!requireMapping(errs, 'spec.delivery.backoff', backoff)) return;
  rejectUnknownFields(errs, 'spec.delivery.backoff', backoff, fieldsOf(BACKOFF));
  const { policy } = backoff;
  const policies: readonly string[] = BACKOFF.properties.policy.enum;
  if (policy != null && (typeof policy !== 'string' || !policies.includes(policy))) {
    errs.push({ field: 'spec.delivery.backoff.policy', message: `must be one of ${policies.join(', ')}, got ${show(policy)}` });
  }
  const { delay, maxDelay } = checkDurations(errs, 'spec.delivery.backoff', backoff, BACKOFF);
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
  rejectUnknownFields(errs, 'spec.reply', reply, fieldsOf(P.reply));
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
