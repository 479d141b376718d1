// fast-check arbitraries for JSON *texts* as people write them, not as JSON.stringify
// would: whitespace anywhere it is allowed, integers past 2^53, trailing zeros, exponents,
// -0, \u escapes (lone surrogates included, which JSON allows) and any Unicode. A
// JSON.parse + JSON.stringify round trip changes most of these, so they show when data is
// re-serialised on its way.
import fc from 'fast-check';

const ws = fc.constantFrom('', ' ', '  ', '\n', '\t', '\r\n ', ' \n\t ');

const digits = fc.bigInt({ min: 0n, max: 10n ** 40n }).map(String);
const numberText = fc.oneof(
  fc.tuple(fc.boolean(), digits).map(([neg, d]) => `${neg ? '-' : ''}${d}`),
  fc.tuple(fc.boolean(), digits, fc.nat(9999), fc.nat(3)).map(([neg, i, f, zeros]) => `${neg ? '-' : ''}${i}.${f}${'0'.repeat(zeros)}`),
  fc.tuple(digits, fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.nat(400)).map(([m, e, sign, x]) => `${m}${e}${sign}${x}`),
  fc.constantFrom('-0', '-0.0', '0.10', '1.10', '12345678901234567890', '1e400', '5e-324'),
);

const hex4 = (n: number): string => n.toString(16).padStart(4, '0');
const stringPart = fc.oneof(
  fc.string({ maxLength: 6, unit: 'grapheme' }).map((s) => JSON.stringify(s).slice(1, -1)),
  fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.boolean()).map(([c, upper]) => `\\u${upper ? hex4(c).toUpperCase() : hex4(c)}`),
  fc.constantFrom('\\n', '\\"', '\\\\', '\\/', '\\t', '\\b', '\\f', '\\r'),
);
const stringText = fc.array(stringPart, { maxLength: 5 }).map((parts) => `"${parts.join('')}"`);

const { value } = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, numberText, stringText, fc.constantFrom('true', 'false', 'null'), tie('array'), tie('object')),
  array: fc
    .tuple(ws, fc.array(fc.tuple(ws, tie('value'), ws), { maxLength: 4 }))
    .map(([inner, items]) => (items.length === 0 ? `[${inner}]` : `[${items.map(([a, v, b]) => `${a}${v}${b}`).join(',')}]`)),
  object: fc
    .tuple(ws, fc.array(fc.tuple(ws, stringText, ws, ws, tie('value'), ws), { maxLength: 4 }))
    .map(([inner, members]) => (members.length === 0 ? `{${inner}}` : `{${members.map(([a, k, b, c, v, d]) => `${a}${k}${b}:${c}${v}${d}`).join(',')}}`)),
}));

/** A JSON text: any value, with the producer's own spacing and number spelling. */
export const jsonText = value;
/** Spacing a producer may put around a value. */
export const jsonSpace = ws;
