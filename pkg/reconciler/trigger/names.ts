// Names the Trigger reconciler gives and reads: its finalizer, the default stream, and
// the subjects a trigger needs its stream to hold.
import type { KfnTrigger } from '../../apis/trigger/types.js';
import { validateTrigger } from '../../apis/trigger/validation.js';

/** Keeps a deleted Trigger until its JetStream consumer is gone, even if the controller was down when it was deleted. */
export const TRIGGER_FINALIZER = 'kfn.dev/trigger';

export function streamOf(t: Pick<KfnTrigger, 'spec'>, defaultStream: string): string {
  return t.spec.stream ?? defaultStream;
}

/**
 * What the trigger's stream must hold: the subject it listens on, and the subjects kfn
 * publishes to for it (replies and dead letters), so those are stored and can trigger
 * further functions.
 */
export function streamSubjectsOf(t: Pick<KfnTrigger, 'spec'>): string[] {
  const out = [t.spec.subject];
  if (t.spec.reply?.subject) out.push(t.spec.reply.subject);
  if (t.spec.delivery?.deadLetterSubject) out.push(t.spec.delivery.deadLetterSubject);
  return out;
}

/**
 * Every subject `stream` must hold: those of each Trigger on it (streamSubjectsOf) that is
 * valid and not being deleted. Invalid ones add nothing: a Trigger on '>' from an older
 * kfn must not keep its stream capturing NATS's traffic. A Trigger whose Function is
 * missing counts: its events wait in the stream.
 */
export function subjectsOfStream(stream: string, triggers: readonly KfnTrigger[], defaultStream: string): string[] {
  const out = new Set<string>();
  for (const t of triggers) {
    // The cheap checks first: validation runs only for the Triggers on this stream.
    if (t.metadata.deletionTimestamp || !t.spec || streamOf(t, defaultStream) !== stream) continue;
    if (validateTrigger(t).length > 0) continue;
    for (const s of streamSubjectsOf(t)) out.add(s);
  }
  return [...out];
}

/** pkg/apis' ObjectMeta leaves finalizers out; the API server keeps them on every object. */
type WithFinalizers = { metadata: { finalizers?: string[] } };

export function finalizersOf(t: Pick<KfnTrigger, 'metadata'>): string[] {
  return [...((t as WithFinalizers).metadata.finalizers ?? [])];
}

export function hasFinalizer(t: Pick<KfnTrigger, 'metadata'>): boolean {
  return finalizersOf(t).includes(TRIGGER_FINALIZER);
}

/** `t` with kfn's finalizer added (`add`) or removed, as a new object. */
export function withFinalizer(t: KfnTrigger, add: boolean): KfnTrigger {
  const others = finalizersOf(t).filter((f) => f !== TRIGGER_FINALIZER);
  const finalizers = add ? [...others, TRIGGER_FINALIZER] : others;
  return { ...t, metadata: { ...t.metadata, finalizers } as KfnTrigger['metadata'] };
}
