// The JetStream stream that holds trigger subjects: file storage, and a duplicate window
// so a message published twice with the same Nats-Msg-Id (kfn uses the CloudEvent id) is
// stored, and so delivered, once.
//
// A stream kfn owns (it created it, or it is the default stream) holds exactly the
// subjects its Triggers need, no more: subjects no Trigger needs any more are removed.
// Events already stored on a removed subject stay in the stream until its limits (age,
// size) drop them; no consumer asks for them, so nobody receives them, and nothing new is
// stored there. A stream someone else made and a Trigger names in spec.stream is only
// ever given the subjects it lacks: its other subjects are its owner's.
//
// Stream info and update go through jsApi below rather than nats.js's JetStreamManager,
// because an older kfn could make a stream hold `>` (or `$JS.…`): such a stream stores
// JetStream's own API requests, so the server answers each of them twice, first with the
// stream's PubAck and then with the API response, and nats.js takes the PubAck for the
// answer ("stream info" fails). jsApi waits for the API's own answer, so kfn can still
// read and repair such a stream, keeping the events it stored.
import { isDeepStrictEqual } from 'node:util';
import { createInbox, nanos, StorageType, type JetStreamManager, type NatsConnection, type StreamConfig, type StreamInfo } from 'nats';
import { subjectCovers } from '../../apis/trigger/subject.js';
import { UsageError } from '../../shared/flags.js';

/**
 * The stream of Triggers without spec.stream, in kfn dev and on a cluster (the
 * controller's and the dispatcher's --stream default; both must agree).
 */
export const DEFAULT_STREAM = 'KFN';

/**
 * How long JetStream remembers a Nats-Msg-Id (kfn uses the CloudEvent id), so an event
 * published again within it is stored once.
 */
export const DUPLICATE_WINDOW_MS = 2 * 60_000;

/** Where the components find NATS on a cluster: the Service config/ installs. */
export const CLUSTER_NATS_URL = 'nats://nats.kfn-system.svc:4222';

export interface StreamSpec {
  name: string;
  /** Every subject the stream must hold; on a stream kfn owns, any other subject it holds is removed. */
  subjects: string[];
  /** How long a Nats-Msg-Id is remembered for de-duplication (on a stream kfn owns). */
  duplicateWindowMs: number;
  /**
   * kfn's even without KFN_STREAM_DESCRIPTION: the default stream, which kfn versions
   * before the description made (and may have left holding '>').
   */
  owned?: boolean;
  /**
   * Copies of the stream across a NATS cluster (JetStream's num_replicas, 1 to 5); 3 survives
   * the loss of one server. Default 1. A stream kfn owns is moved to this count when it
   * has another (JetStream re-replicates it in place); another's stream is left as it is.
   */
  replicas?: number;
}

/** JetStream's own bounds on num_replicas. */
export const MAX_STREAM_REPLICAS = 5;

export function streamReplicasProblem(n: number): string | undefined {
  return Number.isInteger(n) && n >= 1 && n <= MAX_STREAM_REPLICAS ? undefined : `want a whole number from 1 to ${MAX_STREAM_REPLICAS}, got ${n}`;
}

/** The value of a `--stream-replicas` flag, or the one-line usage error naming it. */
export function streamReplicasFlag(n: number): number {
  const problem = streamReplicasProblem(n);
  if (problem) throw new UsageError(`--stream-replicas: ${problem}`);
  return n;
}

/** The description of a stream kfn made: its subjects are kfn's to add and remove. */
export const KFN_STREAM_DESCRIPTION = 'kfn: holds the subjects of kfn Triggers; kfn adds and removes them';

const API_PREFIX = '$JS.API';
const API_TIMEOUT_MS = 5000;

/**
 * Creates the stream (as kfn's), or makes an existing one of kfn's hold exactly
 * `spec.subjects` (adding and removing subjects) with the duplicate window; a stream that
 * is not kfn's only gets the subjects it lacks. An empty `spec.subjects` does not create
 * a stream; one of kfn's keeps only its own name as subject, which is what JetStream
 * gives a stream without subjects.
 */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<StreamInfo | undefined> {
  const nc = connectionOf(jsm);
  let existing: StreamInfo | undefined;
  try {
    existing = await streamInfo(nc, spec.name);
  } catch (err) {
    throw new Error(`stream ${spec.name}: info`, { cause: err });
  }
  const window = nanos(spec.duplicateWindowMs);
  const replicas = spec.replicas ?? 1;
  const badReplicas = streamReplicasProblem(replicas);
  if (badReplicas) throw new Error(`stream ${spec.name}: replicas: ${badReplicas}`);
  try {
    if (!existing) {
      if (spec.subjects.length === 0) return undefined;
      return await jsm.streams.add({
        name: spec.name,
        description: KFN_STREAM_DESCRIPTION,
        subjects: streamSubjects(spec),
        storage: StorageType.File,
        duplicate_window: window,
        num_replicas: replicas,
      });
    }
    const had = existing.config.subjects ?? [];
    const owned = spec.owned === true || existing.config.description === KFN_STREAM_DESCRIPTION;
    const subjects = owned ? streamSubjects(spec) : mergeSubjects(had, spec.subjects);
    const ours = { description: KFN_STREAM_DESCRIPTION, duplicate_window: window, num_replicas: replicas };
    const oursAlready =
      existing.config.duplicate_window === window && existing.config.description === KFN_STREAM_DESCRIPTION && (existing.config.num_replicas || 1) === replicas;
    if (sameSet(had, subjects) && (!owned || oursAlready)) return existing;
    const config: StreamConfig = { ...existing.config, subjects, ...(owned ? ours : {}) };
    return (await jsApi(nc, `${API_PREFIX}.STREAM.UPDATE.${spec.name}`, config)) as unknown as StreamInfo;
  } catch (err) {
    throw new Error(`stream ${spec.name}: ${existing ? 'update' : 'create'}`, { cause: err });
  }
}

/** The stream's info, undefined when there is no such stream; works on a stream that captures the API (see the top). */
export async function streamInfo(nc: NatsConnection, name: string): Promise<StreamInfo | undefined> {
  try {
    return (await jsApi(nc, `${API_PREFIX}.STREAM.INFO.${name}`)) as unknown as StreamInfo;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** What the stream is set to hold for `spec`: the widest of overlapping subjects, or its name when none. */
export function streamSubjects(spec: Pick<StreamSpec, 'name' | 'subjects'>): string[] {
  const subjects = mergeSubjects([], spec.subjects);
  return subjects.length > 0 ? subjects : [spec.name];
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

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return isDeepStrictEqual([...new Set(a)].sort(), [...new Set(b)].sort());
}

export class JetStreamApiError extends Error {
  constructor(
    message: string,
    readonly api_error: { code?: number; err_code?: number; description?: string },
  ) {
    super(message);
    this.name = 'JetStreamApiError';
  }
}

/**
 * One JetStream API request, answered by the API's own response (a JSON object whose
 * `type` is io.nats.jetstream.api.v1.…): any other reply on the inbox, such as the PubAck
 * of a stream that captured the request, is skipped. Throws JetStreamApiError for an
 * API error, and an Error when nothing answers within the timeout.
 */
export async function jsApi(nc: NatsConnection, subject: string, body?: unknown, timeoutMs = API_TIMEOUT_MS): Promise<Record<string, unknown>> {
  const inbox = createInbox();
  const sub = nc.subscribe(inbox);
  const timer = setTimeout(() => sub.unsubscribe(), timeoutMs);
  try {
    nc.publish(subject, body === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(body)), { reply: inbox });
    for await (const m of sub) {
      if (m.headers?.code === 503) throw new Error(`${subject}: no responders: is JetStream enabled?`);
      let reply: unknown;
      try {
        reply = m.json();
      } catch {
        continue;
      }
      const r = reply as { type?: unknown; error?: { code?: number; err_code?: number; description?: string } };
      if (typeof r.type !== 'string' || !r.type.startsWith('io.nats.jetstream.api.v1.')) continue;
      if (r.error) throw new JetStreamApiError(`${subject}: ${r.error.description ?? 'JetStream API error'}`, r.error);
      return reply as Record<string, unknown>;
    }
    throw new Error(`${subject}: no JetStream API answer within ${timeoutMs} ms`);
  } finally {
    clearTimeout(timer);
    sub.unsubscribe();
  }
}

/**
 * The connection a JetStreamManager was made on. nats.js keeps it as the manager's `nc`
 * field without declaring it on the interface; checked here so a nats.js that changes it
 * fails loudly rather than oddly.
 */
function connectionOf(jsm: JetStreamManager): NatsConnection {
  const nc = (jsm as unknown as { nc?: NatsConnection }).nc;
  if (!nc || typeof nc.subscribe !== 'function') throw new Error('JetStreamManager without its connection: nats.js changed');
  return nc;
}

/** JetStream's "stream not found" (err_code 10059), anywhere in the cause chain. */
export function isStreamNotFound(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const api = (e as { api_error?: { err_code?: number } }).api_error;
    if (api?.err_code === 10059) return true;
    if (e instanceof Error && /stream not found/i.test(e.message)) return true;
  }
  return false;
}

export function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number; code?: number } } | undefined;
  if (e?.api_error?.code === 404) return true;
  return err instanceof Error && /not found/i.test(err.message);
}
