// A condition as a status function writes it, for the status tables: transition time `at`
// (the tables' NOW unless given), reason and message only when set.
import type { Condition } from '../../pkg/apis/meta.js';

export const NOW = new Date('2026-11-22T00:00:00Z');

export const cond = (type: string, status: Condition['status'], reason?: string, message?: string, at = NOW.toISOString()): Condition => ({
  type,
  status,
  lastTransitionTime: at,
  ...(reason ? { reason } : {}),
  ...(message ? { message } : {}),
});
