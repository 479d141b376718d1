// Human output of `kfn get`: a table like kubectl's, and a detail view with conditions.
import type { Condition } from '../../pkg/apis/meta.js';
import type { KfnFunction } from '../../pkg/apis/function/types.js';
import type { KfnTrigger } from '../../pkg/apis/trigger/types.js';

export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3))).join('')).join('\n');
}

export function condition(obj: KfnFunction | KfnTrigger, type: string): Condition | undefined {
  return obj.status?.conditions?.find((c) => c.type === type);
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

export function triggerTable(triggers: KfnTrigger[]): string {
  const rows = [['NAMESPACE', 'NAME', 'SUBJECT', 'FUNCTION', 'READY', 'DELIVERED', 'RETRIED', 'DEAD', 'DROPPED', 'REASON', 'AGE']];
  for (const t of triggers) {
    const ready = condition(t, 'Ready');
    const st = t.status ?? {};
    rows.push([
      t.metadata.namespace ?? 'default',
      t.metadata.name,
      t.spec.subject,
      t.spec.function,
      ready?.status ?? 'Unknown',
      String(st.delivered ?? 0),
      String(st.retried ?? 0),
      String(st.deadLettered ?? 0),
      String(st.dropped ?? 0),
      ready?.status === 'True' ? '' : (ready?.reason ?? ''),
      age(t.metadata.creationTimestamp),
    ]);
  }
  return table(rows);
}

export function triggerDetail(t: KfnTrigger): string {
  const st = t.status ?? {};
  const d = t.spec.delivery ?? {};
  const lines = [
    `Name:         ${t.metadata.namespace ?? 'default'}/${t.metadata.name}`,
    `Subject:      ${t.spec.subject}${t.spec.stream ? ` (stream ${t.spec.stream})` : ''}`,
    `Function:     ${t.spec.function}${t.spec.path ?? ''}`,
    `Reply:        ${t.spec.reply?.subject ?? '-'}`,
    `Dead letters: ${d.deadLetterSubject ?? '- (dropped after the last retry)'}`,
    `Consumer:     ${st.consumer ?? '-'}`,
    `Events:       ${st.delivered ?? 0} delivered, ${st.retried ?? 0} retried, ${st.deadLettered ?? 0} dead-lettered, ${st.dropped ?? 0} dropped`,
    'Conditions:',
  ];
  const rows = [['  TYPE', 'STATUS', 'REASON', 'MESSAGE']];
  for (const c of st.conditions ?? []) rows.push([`  ${c.type}`, c.status, c.reason ?? '', c.message ?? '']);
  lines.push(table(rows));
  return lines.join('\n');
}
