// The Trigger resource, defined once: config/210-crd-trigger.yaml is generated from this
// (`npm run gen:crds`), types.ts infers its types from it, and validation.ts reads its
// bounds, patterns, enums and field lists from it.
//
// Some bounds exist only to keep CEL rule costs acceptable to the API server (maxLength on
// durations and subjects, maxProperties and value maxLength on the filter maps), and
// every `matches` takes a literal pattern (test/apis/crd-cost.test.ts).
import { conditionsSchema, durationSchema, nameRules, type CrdSource } from '../schema.js';
import { DURATION_MAX_LENGTH, NAME_MAX_LENGTH, NAME_PATTERN } from '../checks.js';
import { DURATION_PATTERN } from '../../shared/duration.js';
import {
  DEFAULT_BACKOFF_DELAY, DEFAULT_BACKOFF_MAX_DELAY, DEFAULT_BACKOFF_POLICY, DEFAULT_MAX_IN_FLIGHT, DEFAULT_PATH, DEFAULT_RETRIES, MAX_IN_FLIGHT_LIMIT,
} from './defaults.js';
import { RESERVED_SUBJECT_MESSAGE, SUBJECT_MAX_LENGTH, SUBJECT_PATTERN } from './subject.js';

/** CloudEvents attribute names: lowercase a-z and 0-9, at most 20 characters (CloudEvents 1.0). */
export const ATTRIBUTE_NAME_PATTERN = '^[a-z0-9]{1,20}$';
/**
 * JetStream stream names: no whitespace, '.', wildcards or path separators (the name is a
 * directory of the file store). nats-server sets no length limit; 255 is the file system's.
 */
export const STREAM_NAME_PATTERN = '^[^. \\t\\r\\n\\f*>/\\\\]+$';
export const STREAM_NAME_MAX_LENGTH = 255;

/**
 * subject.ts's reservedSubjectProblem in cheap CEL (startsWith and == on a bounded
 * string): no leading '>' or '*' token, nothing starting with '$' or '_INBOX'.
 */
const notReserved = (field: string) =>
  ({
    rule: "!(self.startsWith('$') || self == '_INBOX' || self.startsWith('_INBOX.') || self == '*' || self.startsWith('*.') || self == '>' || self.startsWith('>.'))",
    message: `${field}: ${RESERVED_SUBJECT_MESSAGE}`,
  }) as const;

/**
 * A subject kfn publishes to. Checked by kfn's controller only, not here: that it is not
 * matched by spec.subject (a loop). Saying that in CEL means building a regular expression
 * from spec.subject at run time, whose cost the API server cannot bound: a real
 * kube-apiserver refused this CRD for it ("estimated rule cost exceeds budget by factor of
 * more than 100x"). The API server stores such a Trigger; the controller marks it
 * Ready=False with reason InvalidSpec naming the field, and creates no consumer for it.
 */
const publishSubject = <const D extends string>(field: string, description: D) =>
  ({
    type: 'string',
    maxLength: SUBJECT_MAX_LENGTH,
    pattern: SUBJECT_PATTERN,
    description,
    'x-kubernetes-validations': [
      { rule: "!self.matches('(^|[.])[*>]([.]|$)')", message: `${field}: must not contain the wildcards '*' or '>': kfn publishes to it` },
      notReserved(field),
    ],
  }) as const;

const attributeMap = <const D extends string>(key: string, description: D) =>
  ({
    type: 'object',
    maxProperties: 32,
    description,
    'x-kubernetes-validations': [
      { rule: `self.all(k, k.matches('${ATTRIBUTE_NAME_PATTERN}'))`, message: `spec.filter.${key}: attribute names must be a-z and 0-9, at most 20 characters` },
    ],
    additionalProperties: { type: 'string', maxLength: 256 },
  }) as const;

/** A duration that is valid on its own: the backoff rule compares only those, so one mistake gives one error. */
const validDelay = (field: string): string =>
  `(has(self.${field}) && !(size(self.${field}) <= ${DURATION_MAX_LENGTH} && self.${field}.matches(r'${DURATION_PATTERN}') && duration(self.${field}) <= duration('1h')))`;

const delivery = {
  type: 'object',
  description: 'Retries, backoff, timeout, concurrency and dead letters.',
  properties: {
    retries: { type: 'integer', minimum: 0, maximum: 100, description: `Retries after the first attempt, from 0 to 100. Default ${DEFAULT_RETRIES}, so ${DEFAULT_RETRIES + 1} attempts in all.` },
    backoff: {
      type: 'object',
      description: 'How long to wait before each retry.',
      'x-kubernetes-validations': [
        {
          rule: `${validDelay('delay')} || ${validDelay('maxDelay')} || duration(has(self.delay) ? self.delay : '${DEFAULT_BACKOFF_DELAY}') <= duration(has(self.maxDelay) ? self.maxDelay : '${DEFAULT_BACKOFF_MAX_DELAY}')`,
          message: `spec.delivery.backoff.delay: must be <= spec.delivery.backoff.maxDelay (default ${DEFAULT_BACKOFF_MAX_DELAY})`,
        },
      ],
      properties: {
        policy: {
          type: 'string',
          enum: ['exponential', 'linear'],
          description: `exponential (delay, 2×, 4×…) or linear (delay, 2×, 3×…), capped at maxDelay. Default ${DEFAULT_BACKOFF_POLICY}.`,
        },
        delay: durationSchema('spec.delivery.backoff.delay', '0s', '1h', `First retry delay, up to 1h and at most maxDelay. Default ${DEFAULT_BACKOFF_DELAY}.`),
        maxDelay: durationSchema('spec.delivery.backoff.maxDelay', '0s', '1h', `Cap on any retry delay, up to 1h. Default ${DEFAULT_BACKOFF_MAX_DELAY}.`),
      },
    },
    timeout: durationSchema('spec.delivery.timeout', '1s', '1h', "Longest one delivery may take, from 1s to 1h. Default the function's timeoutSeconds."),
    maxInFlight: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_IN_FLIGHT_LIMIT,
      description: `Most events in flight at once, from 1 to ${MAX_IN_FLIGHT_LIMIT}. Default the function's capacity (containerConcurrency × scale.max) when both are set, else ${DEFAULT_MAX_IN_FLIGHT}.`,
    },
    deadLetterSubject: publishSubject(
      'spec.delivery.deadLetterSubject',
      "NATS subject events go to after the last failed attempt, with headers saying why. No wildcards. It must not be a subject this trigger listens on: kfn's controller checks that, not the API server, and marks such a Trigger Ready=False (InvalidSpec) without creating its consumer.",
    ),
  },
} as const;

export const triggerSpecSchema = {
  type: 'object',
  description: 'Which events to deliver, to which function, and how.',
  required: ['subject', 'function'],
  properties: {
    subject: {
      type: 'string',
      maxLength: SUBJECT_MAX_LENGTH,
      pattern: SUBJECT_PATTERN,
      description:
        "NATS subject to listen on, e.g. orders.>: tokens separated by '.', no whitespace; '*' matches one token and '>' the rest, each only as a whole token ('>' last). Not NATS's own subjects: no leading '>' or '*' token, none starting with '$' or '_INBOX'.",
      'x-kubernetes-validations': [notReserved('spec.subject')],
    },
    stream: {
      type: 'string',
      maxLength: STREAM_NAME_MAX_LENGTH,
      pattern: STREAM_NAME_PATTERN,
      description: "JetStream stream that holds the subject; kfn's own stream when unset. No whitespace, '.', '*', '>', '/' or '\\'.",
    },
    filter: {
      type: 'object',
      description: 'Deliver only events whose CloudEvents attributes (or extensions) match every entry here. Set at least one attribute, or leave the filter out.',
      'x-kubernetes-validations': [
        {
          rule: '(has(self.exact) ? size(self.exact) : 0) + (has(self.prefix) ? size(self.prefix) : 0) + (has(self.suffix) ? size(self.suffix) : 0) > 0',
          message: 'spec.filter: set at least one attribute under exact, prefix or suffix, or leave the filter out',
        },
      ],
      properties: {
        exact: attributeMap('exact', 'Attribute name → the value it must have, e.g. type com.example.order.created.'),
        prefix: attributeMap('prefix', 'Attribute name → a prefix its value must start with.'),
        suffix: attributeMap('suffix', 'Attribute name → a suffix its value must end with.'),
      },
    },
    function: {
      type: 'string',
      maxLength: NAME_MAX_LENGTH,
      pattern: NAME_PATTERN,
      description: "Name of the Function to deliver to, in the trigger's namespace.",
    },
    path: { type: 'string', pattern: '^/', description: `Path on the function the events are POSTed to, starting with '/'. Default ${DEFAULT_PATH}.` },
    delivery,
    reply: {
      type: 'object',
      description: "Publish the function's 2xx responses with a body as new CloudEvents.",
      required: ['subject'],
      properties: {
        subject: publishSubject(
          'spec.reply.subject',
          "NATS subject replies are published to. No wildcards. It must not be a subject this trigger listens on: kfn's controller checks that, not the API server, and marks such a Trigger Ready=False (InvalidSpec) without creating its consumer.",
        ),
      },
    },
    orderingKey: {
      type: 'string',
      pattern: ATTRIBUTE_NAME_PATTERN,
      description: 'CloudEvents extension attribute: events with the same value are delivered one at a time, in order; different values run in parallel.',
    },
  },
} as const;

export const triggerStatusSchema = {
  type: 'object',
  description: 'What kfn observed; written by the controller and the dispatcher.',
  properties: {
    observedGeneration: { type: 'integer', description: 'The metadata.generation this status describes.' },
    consumer: { type: 'string', description: 'Name of the JetStream durable consumer that feeds this trigger.' },
    delivered: { type: 'integer', description: 'Events the function answered with 2xx.' },
    retried: { type: 'integer', description: 'Delivery attempts that failed and were retried.' },
    deadLettered: { type: 'integer', description: 'Events published to the dead-letter subject after the last failed attempt.' },
    dropped: {
      type: 'integer',
      description: 'Events that failed for good (or could not be handled at all) with no dead-letter subject to go to; each is logged with its id.',
    },
    conditions: conditionsSchema(
      'Ready, ConsumerReady and FunctionFound, each with a reason and message when not True.',
      'Ready, ConsumerReady or FunctionFound.',
      'CamelCase cause, e.g. FunctionNotFound.',
      'trigger',
    ),
  },
} as const;

export const triggerSchema = {
  type: 'object',
  description:
    'A Trigger delivers the events published on a NATS subject (optionally only those whose CloudEvents attributes match a filter) to a Function, as CloudEvents over HTTP, with retries, backoff and a dead-letter subject.',
  required: ['spec'],
  // The name is also the JetStream durable consumer's name, which may not hold
  // whitespace, '.', '*', '>' or path separators; a DNS label has none of them.
  'x-kubernetes-validations': nameRules('it names a JetStream consumer'),
  properties: {
    apiVersion: { type: 'string', description: 'The versioned schema of this object; kfn.dev/v1alpha1.' },
    kind: { type: 'string', description: 'The kind of this object; Trigger.' },
    metadata: { type: 'object' },
    spec: triggerSpecSchema,
    status: triggerStatusSchema,
  },
} as const;

export const triggerCrd: CrdSource = {
  file: 'config/210-crd-trigger.yaml',
  schemaFile: 'pkg/apis/trigger/schema.ts',
  header: [
    'The Trigger resource: binds a NATS subject (and CloudEvents attribute filters) to a',
    'Function. Checked by the kfn controller only, not by this schema: that the reply and',
    'dead-letter subjects are not matched by spec.subject (a loop); the API server cannot',
    'afford that rule. Such a Trigger is stored, marked Ready=False (InvalidSpec) and gets',
    'no consumer.',
  ].join('\n'),
  kind: 'Trigger',
  plural: 'triggers',
  shortNames: ['trig'],
  columns: [
    { name: 'Subject', type: 'string', jsonPath: '.spec.subject' },
    { name: 'Function', type: 'string', jsonPath: '.spec.function' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: 'Delivered', type: 'integer', description: 'Events the function answered with 2xx.', jsonPath: '.status.delivered' },
    {
      name: 'Dead-Lettered',
      type: 'integer',
      description: 'Events published to the dead-letter subject after the last failed attempt.',
      jsonPath: '.status.deadLettered',
    },
    { name: 'Dropped', type: 'integer', description: 'Events that failed for good with no dead-letter subject to go to.', jsonPath: '.status.dropped' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  schema: triggerSchema,
};
