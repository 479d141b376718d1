// Which of kfn's streams an ingress subject goes to. The ingress publishes only to a
// subject that a stream kfn's Triggers use holds (as JetStream says, from stream info),
// and takes only that stream's PubAck for "stored": a subject held by someone else's
// stream, answered by a core NATS service, or not held at all is never taken for stored.
//
// Cheap on the hot path: the streams' subjects are cached, a subject's answer is
// remembered, and the cache is refreshed in the background when stale. A subject not
// found makes one refresh (at most one per missRefreshMs, so random subjects cannot
// flood JetStream with info requests), so a Trigger just created is reachable at once.
import type { StreamInfo } from 'nats';
import { subjectMatches } from '../../apis/trigger/subject.js';
import type { Logger } from '../../shared/log.js';

export interface SubjectRoutesDeps {
  /** The names of the streams kfn's Triggers use; read at each refresh. */
  streams: () => Iterable<string>;
  /** A stream's info, undefined when it does not exist. */
  info: (stream: string) => Promise<StreamInfo | undefined>;
  log: Logger;
  now?: () => number;
  /** The table is refreshed in the background once older than this. */
  refreshMs?: number;
  /** A subject not found refreshes the table first, if it is older than this. */
  missRefreshMs?: number;
}

/** Stream name → the subjects it holds. */
export type RouteTable = ReadonlyMap<string, readonly string[]>;

/** The stream of `table` that holds `subject`, or undefined. Pure; the first stream listed wins (JetStream allows only one). */
export function routeOf(table: RouteTable, subject: string): string | undefined {
  for (const [stream, subjects] of table) {
    if (subjects.some((s) => subjectMatches(s, subject))) return stream;
  }
  return undefined;
}

/** Answers remembered at most; past it the memo starts again (random subjects must not grow it for ever). */
const MEMO_MAX = 10_000;

export class SubjectRoutes {
  private table: RouteTable = new Map();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;
  private readonly memo = new Map<string, string | null>();
  /** Why the last load could not read a stream kfn had no subjects for yet; undefined when it read them all. */
  private failure: unknown;
  private readonly now: () => number;
  private readonly refreshMs: number;
  private readonly missRefreshMs: number;

  constructor(private readonly deps: SubjectRoutesDeps) {
    this.now = deps.now ?? Date.now;
    this.refreshMs = deps.refreshMs ?? 5000;
    this.missRefreshMs = deps.missRefreshMs ?? 1000;
  }

  /** The stream that holds `subject`, or undefined when none of kfn's does. */
  async streamFor(subject: string): Promise<string | undefined> {
    const age = this.now() - this.loadedAt;
    if (age === Number.POSITIVE_INFINITY) await this.refresh();
    else if (age > this.refreshMs) void this.refresh();
    const known = this.lookup(subject);
    if (known !== undefined || this.now() - this.loadedAt < this.missRefreshMs) return known;
    await this.refresh();
    return this.lookup(subject);
  }

  /**
   * Set when the last refresh could not read a stream whose subjects were not known
   * before (NATS unreachable): a subject not found may then be held by it, so the caller
   * should answer "try again" rather than "no such stream".
   */
  get unreadable(): unknown {
    return this.failure;
  }

  /** Reloads every stream's subjects; one load at a time, callers share it. Never rejects. */
  refresh(): Promise<void> {
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private lookup(subject: string): string | undefined {
    const hit = this.memo.get(subject);
    if (hit !== undefined) return hit ?? undefined;
    const stream = routeOf(this.table, subject);
    if (this.memo.size >= MEMO_MAX) this.memo.clear();
    this.memo.set(subject, stream ?? null);
    return stream;
  }

  private async load(): Promise<void> {
    const names = [...new Set(this.deps.streams())];
    const next = new Map<string, readonly string[]>();
    let failure: unknown;
    await Promise.all(names.map(async (name) => {
      try {
        const info = await this.deps.info(name);
        if (info) next.set(name, info.config.subjects ?? []);
      } catch (err) {
        // NATS away for a moment: keep what we knew of this stream.
        const before = this.table.get(name);
        if (before) next.set(name, before);
        else failure ??= err;
        this.deps.log.warn({ err, stream: name }, 'reading a stream\'s subjects failed');
      }
    }));
    // In the order of `names`, so the answer does not depend on which info came back first.
    const ordered = new Map(names.filter((n) => next.has(n)).map((n) => [n, next.get(n) ?? []]));
    this.table = ordered;
    this.failure = failure;
    this.loadedAt = this.now();
    this.memo.clear();
  }
}
