// Human output of `kfn get`: a table like kubectl's, and a detail view with conditions.
import type { Condition } from '../../pkg/apis/meta.js';
import type { KfnFunction } from '../../pkg/apis/function/types.js';

export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3))).join('')).join('\n');
}

export function condition(fn: KfnFunction, type: string): Condition | undefined {
  return fn.status?.conditions?.find((c) => c.type === type);
}

export function age(created: string | undefined, now = Date.now()): string {
  if (!created) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(created)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function functionTable(fns: KfnFunction[]): string {
  const rows = [['NAMESPACE', 'NAME', 'URL', 'READY', 'REPLICAS', 'REASON', 'AGE']];
  for (const fn of fns) {
    const ready = condition(fn, 'Ready');
    const st = fn.status ?? {};
    rows.push([
      fn.metadata.namespace ?? 'default',
      fn.metadata.name,
      st.url ?? '',
      ready?.status ?? 'Unknown',
      `${st.readyReplicas ?? 0}/${st.desiredReplicas ?? 0}`,
      ready?.status === 'True' ? '' : (ready?.reason ?? ''),
      age(fn.metadata.creationTimestamp),
    ]);
  }
  return table(rows);
}

export function functionDetail(fn: KfnFunction): string {
  const st = fn.status ?? {};
  const lines = [
    `Name:        ${fn.metadata.namespace ?? 'default'}/${fn.metadata.name}`,
    `URL:         ${st.url ?? ''}`,
    `Image:       ${fn.spec.image}`,
    `Replicas:    ${st.readyReplicas ?? 0} ready / ${st.replicas ?? 0} running / ${st.desiredReplicas ?? 0} desired`,
    `Generation:  ${fn.metadata.generation ?? 0} (observed ${st.observedGeneration ?? 0})`,
    'Conditions:',
  ];
  const rows = [['  TYPE', 'STATUS', 'REASON', 'MESSAGE']];
  for (const c of st.conditions ?? []) rows.push([`  ${c.type}`, c.status, c.reason ?? '', c.message ?? '']);
  lines.push(table(rows));
  return lines.join('\n');
}
