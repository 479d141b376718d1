// Typed readers over the values readFlags returns (flag, else KFN_* env): each one
// refuses a bad value with an error that names the flag and shows what it wants.
import { parseDuration } from './duration.js';

export type FlagValues = Record<string, string | boolean | undefined>;

export interface FlagReader<K extends string> {
  /** The value, with '' read as unset. */
  str: (name: K) => string | undefined;
  int: (name: K, min: number) => number | undefined;
  /** Any finite number ≥ 0. */
  num: (name: K) => number | undefined;
  /** Milliseconds; 0 only when `allowZero`. */
  duration: (name: K, opts?: { allowZero?: boolean; example?: string }) => number | undefined;
  bool: (name: K) => boolean | undefined;
}

export function flagReader<K extends string>(values: FlagValues): FlagReader<K> {
  const str = (name: K): string | undefined => {
    const v = values[name];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  return {
    str,
    int: (name, min) => {
      const v = str(name);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: want an integer >= ${min}, got "${v}"`);
      return n;
    },
    num: (name) => {
      const v = str(name);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: want a number >= 0, got "${v}"`);
      return n;
    },
    duration: (name, opts = {}) => {
      const v = str(name);
      if (v === undefined) return undefined;
      const ms = parseDuration(v);
      if (ms === undefined || (ms === 0 && !opts.allowZero)) throw new Error(`--${name}: want a duration such as ${opts.example ?? '30s'}, got "${v}"`);
      return ms;
    },
    bool: (name) => {
      const v = str(name);
      if (v === undefined) return undefined;
      if (v !== 'true' && v !== 'false') throw new Error(`--${name}: want true or false, got "${v}"`);
      return v === 'true';
    },
  };
}
