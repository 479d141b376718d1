// Listener sets of the cluster roles: a listener that throws is logged and the others
// still hear the change.
import type { Logger } from '../../shared/log.js';

export function emitTo<T>(log: Logger, listeners: Iterable<(v: T) => void>, ...values: T[]): void {
  for (const l of listeners) {
    for (const v of values) {
      try {
        l(v);
      } catch (err) {
        log.error({ err }, 'platform listener failed');
      }
    }
  }
}
