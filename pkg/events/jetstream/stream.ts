// The JetStream stream that holds trigger subjects: file storage, and a duplicate window
// so a message published twice with the same Nats-Msg-Id (kfn uses the CloudEvent id) is
// stored, and so delivered, once.
import { isDeepStrictEqual } from 'node:util';
import { StorageType, nanos, type JetStreamManager, type StreamInfo } from 'nats';
import { subjectCovers } from '../../apis/trigger/subject.js';

export interface StreamSpec {
  name: string;
  subjects: string[];
  /** How long a Nats-Msg-Id is remembered for de-duplication. */
  duplicateWindowMs: number;
}

/** Creates the stream, or adds any missing subjects to an existing one. */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<StreamInfo> {
  let existing: StreamInfo | undefined;
  try {
    existing = await jsm.streams.info(spec.name);
  } catch (err) {
    if (!isNotFound(err)) throw new Error(`stream ${spec.name}: info`, { cause: err });
  }
  try {
    if (!existing) {
      return await jsm.streams.add({
        name: spec.name,
        subjects: mergeSubjects([], spec.subjects),
        storage: StorageType.File,
        duplicate_window: nanos(spec.duplicateWindowMs),
      });
    }
    const subjects = mergeSubjects(existing.config.subjects ?? [], spec.subjects);
    const window = nanos(spec.duplicateWindowMs);
    if (isDeepStrictEqual(subjects, existing.config.subjects ?? []) && existing.config.duplicate_window === window) {
      return existing;
    }
    return await jsm.streams.update(spec.name, { ...existing.config, subjects, duplicate_window: window });
  } catch (err) {
    throw new Error(`stream ${spec.name}: ${existing ? 'update' : 'create'}`, { cause: err });
  }
}

/**
 * The union of both subject lists, existing order first, keeping only the widest of any
 * two where one covers the other ("orders.>" absorbs "orders.created"): JetStream
 * refuses a stream whose subjects overlap.
 */
export function mergeSubjects(existing: readonly string[], wanted: readonly string[]): string[] {
  const out: string[] = [];
  for (const s of [...existing, ...wanted]) {
    if (out.some((o) => subjectCovers(o, s))) continue;
    for (let i = out.length - 1; i >= 0; i--) if (subjectCovers(s, out[i] ?? '')) out.splice(i, 1);
    out.push(s);
  }
  return out;
}

export function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number; code?: number } } | undefined;
  if (e?.api_error?.code === 404) return true;
  return err instanceof Error && /not found/i.test(err.message);
}
