// "Does the live object already say what we want?" without being fooled by what the API
// server adds or rewrites. Only the fields we set are compared: a field the server
// defaulted (terminationMessagePath, protocol, sessionAffinity…) is not a difference.
// Resource quantities are compared by value, as the server canonicalizes them
// ("0.5" comes back as "500m", "1024Mi" as "1Gi"), and a zero value we set may come
// back as no field at all.
//
// What this cannot see is a field we used to set and no longer do; the hash of the
// applied configuration on each child sees that (apply.ts, upToDate). This only tells
// whether an apply may be skipped; server-side apply does the merging.

/** True when every field set in `want` has an equal value in `have`. */
export function coveredBy(want: unknown, have: unknown, path: readonly string[] = []): boolean {
  if (want === undefined || want === null) return true;
  if (Array.isArray(want)) {
    // The server drops empty lists.
    if (have === undefined || have === null) return want.length === 0;
    if (!Array.isArray(have) || have.length !== want.length) return false;
    return want.every((w, i) => coveredBy(w, have[i], [...path, String(i)]));
  }
  if (typeof want === 'object') {
    const entries = Object.entries(want as Record<string, unknown>);
    if (have === undefined || have === null) return entries.every(([, v]) => isEmpty(v));
    if (typeof have !== 'object' || Array.isArray(have)) return false;
    const h = have as Record<string, unknown>;
    return entries.every(([k, v]) => coveredBy(v, h[k], [...path, k]));
  }
  if (want === have) return true;
  // Go's omitempty: the server returns no field for '', 0 and false in non-pointer fields
  // (publishNotReadyAddresses: false, env value "").
  if (have === undefined && (want === '' || want === 0 || want === false)) return true;
  if (isQuantityPath(path) && (typeof want === 'string' || typeof want === 'number') && (typeof have === 'string' || typeof have === 'number')) {
    const a = parseQuantity(String(want));
    const b = parseQuantity(String(have));
    return a !== undefined && b !== undefined && Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b), 1);
  }
  return false;
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v as Record<string, unknown>).every(isEmpty);
  return false;
}

function isQuantityPath(path: readonly string[]): boolean {
  const parent = path[path.length - 2];
  return parent === 'requests' || parent === 'limits';
}

const SUFFIXES: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
const QUANTITY_RE = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

/** A Kubernetes resource quantity ("250m", "1.5Gi", "1e3") as a number; undefined if it is not one. */
export function parseQuantity(q: string): number | undefined {
  const m = QUANTITY_RE.exec(q.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[2] !== undefined) return n * 10 ** Number(m[2].slice(1));
  const scale = SUFFIXES[m[3] ?? ''];
  return scale === undefined ? undefined : n * scale;
}
