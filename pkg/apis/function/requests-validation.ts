// The rules of spec.retries and spec.loadBalancing, read from the schema the CRD is
// generated from; the messages say what the CRD's CEL rules say, in the same words.
import type { FieldError } from '../meta.js';
import { checkDurations, checkNumbers, fieldsOf, patternOf } from '../schema.js';
import { rejectUnknownFields, requireMapping, show, type Fields } from '../checks.js';
import { functionSpecSchema } from './schema.js';

const LB = functionSpecSchema.properties.loadBalancing;
const HASH = LB.properties.consistentHash;
const OUTLIER = LB.properties.outlierDetection;
const RETRIES = functionSpecSchema.properties.retries;

export function validateRequests(errs: FieldError[], spec: Fields): void {
  validateRetries(errs, spec.retries);
  validateLoadBalancing(errs, spec.loadBalancing);
}

function validateRetries(errs: FieldError[], v: unknown): void {
  if (v == null || !requireMapping(errs, 'spec.retries', v)) return;
  rejectUnknownFields(errs, 'spec.retries', v, fieldsOf(RETRIES));
  checkBoolean(errs, 'spec.retries.idempotent', v.idempotent);
}

function validateLoadBalancing(errs: FieldError[], v: unknown): void {
  const at = 'spec.loadBalancing';
  if (v == null || !requireMapping(errs, at, v)) return;
  rejectUnknownFields(errs, at, v, fieldsOf(LB));
  const policies: readonly string[] = LB.properties.policy.enum;
  const policy = v.policy;
  if (policy != null && (typeof policy !== 'string' || !policies.includes(policy))) {
    errs.push({ field: `${at}.policy`, message: `must be one of ${policies.map((p) => JSON.stringify(p)).join(', ')}, got ${show(policy)}` });
  }
  // An unset policy is 'default'; an invalid one is reported above, and not twice.
  const chosen = policy ?? 'default';
  const known = typeof chosen === 'string' && policies.includes(chosen);
  if (v.leastRequest != null) {
    if (known && chosen !== 'leastRequest') errs.push({ field: `${at}.leastRequest`, message: 'set it only with policy leastRequest' });
    if (requireMapping(errs, `${at}.leastRequest`, v.leastRequest)) {
      rejectUnknownFields(errs, `${at}.leastRequest`, v.leastRequest, fieldsOf(LB.properties.leastRequest));
      checkNumbers(errs, `${at}.leastRequest`, v.leastRequest, LB.properties.leastRequest);
    }
  }
  if (v.consistentHash != null) {
    if (known && chosen !== 'consistentHash') errs.push({ field: `${at}.consistentHash`, message: 'set it only with policy consistentHash' });
    validateConsistentHash(errs, v.consistentHash);
  } else if (policy === 'consistentHash') {
    errs.push({ field: `${at}.consistentHash`, message: 'required with policy consistentHash (set header, cookie or clientAddress)' });
  }
  const od = v.outlierDetection;
  if (od != null && requireMapping(errs, `${at}.outlierDetection`, od)) {
    rejectUnknownFields(errs, `${at}.outlierDetection`, od, fieldsOf(OUTLIER));
    checkNumbers(errs, `${at}.outlierDetection`, od, OUTLIER);
    checkDurations(errs, `${at}.outlierDetection`, od, OUTLIER);
  }
}

function validateConsistentHash(errs: FieldError[], v: unknown): void {
  const at = 'spec.loadBalancing.consistentHash';
  if (!requireMapping(errs, at, v)) return;
  rejectUnknownFields(errs, at, v, fieldsOf(HASH));
  let set = 0;
  for (const key of ['header', 'cookie'] as const) {
    const name = v[key];
    if (name == null) continue;
    set++;
    const node = HASH.properties[key];
    if (typeof name !== 'string' || name.length < node.minLength || name.length > node.maxLength || !patternOf(node).test(name)) {
      const what = key === 'header' ? 'a header name' : 'a cookie name';
      errs.push({
        field: `${at}.${key}`,
        message: `must be ${what}: 1 to ${node.maxLength} letters, digits or any of !#$%&'*+-.^_\`|~ (an HTTP token), got ${show(name)}`,
      });
    }
  }
  checkBoolean(errs, `${at}.clientAddress`, v.clientAddress);
  if (v.clientAddress === true) set++;
  if (set !== 1) errs.push({ field: at, message: 'set exactly one of header, cookie or clientAddress: true' });
}

function checkBoolean(errs: FieldError[], field: string, v: unknown): void {
  if (v != null && typeof v !== 'boolean') errs.push({ field, message: `must be true or false, got ${show(v)}` });
}
