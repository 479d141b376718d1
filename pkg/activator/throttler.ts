// Per function: the ready replicas with their breakers, and the queue of requests waiting
// for a free slot. Requests are handed out FIFO whenever a slot frees or the endpoint set
// changes; a request never jumps the queue, so a function at capacity serves in arrival
// order. Synchronous and timer-driven only: no I/O here.
import type { ActivationFailure, ReadyEndpoint } from '../platform/types.js';
import { Replica } from './breaker.js';
import { ActivatorError } from './errors.js';
import { DEFAULT_BALANCING, type Balancing, type HashOn } from './balancing.js';
import { rendezvous } from './hash.js';
import { firstAvailable, hasFreeSlot, leastRequest, policyFor, powerOfTwoChoices, roundRobin, type PolicyName } from './lb.js';
import { countOutcome, eject, ejectionLimit, isFailure, mayEject } from './outlier.js';
import { WaitQueue, type QueueEntry } from './queue.js';

export interface Waiter extends QueueEntry {
  /** Called once with a replica whose slot is already taken for this request. */
  grant(replica: Replica): void;
  /** Called once when the request will not be served. */
  fail(err: ActivatorError): void;
  /** A replica to prefer not to get (the one a retry comes from). */
  avoid: Replica | undefined;
  /** The request's consistentHash key, when its function hashes and it has one. */
  readonly hashKey?: number | undefined;
  waitTimer: NodeJS.Timeout | undefined;
}

export interface ThrottlerLimits {
  maxQueue: number;
  maxQueueBytes: number;
  /** Sent as Retry-After with queue_full. */
  retryAfterSeconds: number;
  /** In [0, 1); injected so power-of-two-choices is testable. */
  random: () => number;
}

export interface ThrottlerHooks {
  /** A request started waiting for a function with no ready replica: decide now. */
  poke(): void;
  /** A request is left waiting for a free slot: demand may be outgrowing the replicas. */
  queued?(): void;
  /** The request that started a cold spell was forwarded, `ms` after it started waiting. */
  coldStartServed(ms: number): void;
  now(): number;
  /** `requests` were refused with 503 because the function cannot start. */
  activationFailed?(failure: ActivationFailure, requests: number): void;
}

export class Throttler {
  private replicas: Replica[] = [];
  /** Made when the first request has to wait: most functions never queue one. */
  private queue: WaitQueue<Waiter> | undefined;
  private failure: ActivationFailure | undefined;
  private containerConcurrency: number;
  private policy: PolicyName;
  private cursor = 0;
  private balancing: Balancing = DEFAULT_BALANCING;
  /**
   * The replicas policies choose from: `replicas` itself (the same array) unless outlier
   * detection ejected some, so the default path pays nothing for ejection.
   */
  private eligible: Replica[] = this.replicas;
  private ejected = 0;
  /** When the next ejected replica comes back; read only while one is ejected. */
  private nextReturn = Infinity;
  /** When the current cold spell's first request started waiting; undefined outside one. */
  private coldSince: number | undefined;

  constructor(
    readonly id: string,
    containerConcurrency: number,
    private readonly limits: ThrottlerLimits,
    private readonly hooks: ThrottlerHooks,
  ) {
    this.containerConcurrency = containerConcurrency;
    this.policy = policyFor(containerConcurrency);
  }

  get queueDepth(): number {
    return this.queue?.count ?? 0;
  }

  get queuedBytes(): number {
    return this.queue?.bytes ?? 0;
  }

  get readyReplicas(): readonly Replica[] {
    return this.replicas;
  }

  /** Whether nothing here needs keeping: no replicas, nobody waiting, no failure to report. */
  get idle(): boolean {
    return this.replicas.length === 0 && this.queueDepth === 0 && this.failure === undefined;
  }

  /** What consistentHash hashes for this function; undefined for the other policies. */
  get hashOn(): HashOn | undefined {
    return this.balancing.hashOn;
  }

  /** spec.loadBalancing changed. Ejections in force stay; with detection off they end now. */
  configureBalancing(b: Balancing): void {
    this.balancing = b;
    this.policy = this.policyNow();
    if (!b.outlier) for (const r of this.replicas) r.ejectedUntil = 0;
    this.refreshEligible();
    this.dispatch();
  }

  configure(containerConcurrency: number): void {
    if (containerConcurrency === this.containerConcurrency) return;
    this.containerConcurrency = containerConcurrency;
    this.policy = this.policyNow();
    for (const r of this.replicas) r.capacity = containerConcurrency;
    this.dispatch();
  }

  /** A replica with its slot taken, if one is free and nobody is waiting ahead. */
  tryAcquire(avoid?: Replica, hashKey?: number): Replica | undefined {
    if (this.replicas.length === 0 || this.queueDepth > 0) return undefined;
    const r = this.pick(avoid, hashKey);
    if (r) r.inFlight++;
    return r;
  }

  /** Queues `w` for at most `timeoutMs`, or fails it at once (queue full, activation failed). */
  /**
   * Queues `w` for `timeoutMs` at most. `limitMs` is the bound a person set (the
   * function's timeout), named in the error; the wait itself is what is left of it.
   */
  enqueue(w: Waiter, timeoutMs: number, limitMs = timeoutMs): void {
    if (this.replicas.length === 0 && this.failure) {
      w.fail(this.activationFailed(this.failure));
      this.hooks.activationFailed?.(this.failure, 1);
      return;
    }
    this.queue ??= new WaitQueue(this.limits.maxQueue, this.limits.maxQueueBytes);
    if (!this.queue.push(w)) {
      w.fail(this.queueFullError());
      return;
    }
    w.waitTimer = setTimeout(() => this.expire(w, limitMs), Math.max(1, timeoutMs));
    this.startColdSpellIfCold();
    this.dispatch();
    if (this.queueDepth > 0) this.hooks.queued?.();
  }

  /** Counts `n` more buffered body bytes for a waiting request; false when past the bound. */
  grow(w: Waiter, n: number): boolean {
    if (this.queue) return this.queue.grow(w, n);
    w.bytes += n;
    return true;
  }

  /** Forgets a waiting request (its client went away). */
  cancel(w: Waiter): void {
    if (!w.queueSlot) return;
    this.queue?.remove(w);
    clearTimeout(w.waitTimer);
    this.endColdSpellIfEmpty();
  }

  /**
   * Frees the slot a request held on `replica`. `status` is how it went, for outlier
   * detection: the response status (ours for a failed connection), 0 when unknown.
   */
  release(replica: Replica, status = 0): void {
    replica.inFlight--;
    const outlier = this.balancing.outlier;
    // Answers from a replica already out (requests it had when ejected) do not count again.
    if (outlier && status !== 0 && !replica.removed && replica.ejectedUntil === 0 && countOutcome(replica, isFailure(status), outlier)) {
      if (mayEject(this.replicas.length, this.ejected, outlier.maxEjectionPercent)) {
        eject(replica, this.hooks.now(), outlier);
        this.refreshEligible();
      }
    }
    if (!replica.removed) this.dispatch();
  }

  /**
   * Replaces the endpoint set. Replicas that stay keep their in-flight counts; removed
   * ones get nothing new while their requests finish. With no endpoints and a failure,
   * everyone waiting fails now rather than at their timeout.
   */
  setEndpoints(endpoints: readonly ReadyEndpoint[], failure: ActivationFailure | undefined): void {
    const previous = new Map<string, Replica>();
    for (const r of this.replicas) previous.set(r.endpoint.id, r);
    // map(), not push(): an array grown by push() from empty reserves 17 slots.
    const next = endpoints.map((e) => {
      const kept = previous.get(e.id);
      if (kept && kept.sameAddress(e)) {
        previous.delete(e.id);
        return kept;
      }
      return new Replica(e, this.containerConcurrency);
    });
    for (const gone of previous.values()) gone.removed = true;
    this.replicas = next;
    this.refreshEligible();
    this.failure = failure;
    if (next.length > 0) {
      this.dispatch();
    } else if (failure) {
      const waiting = this.queueDepth;
      this.failAll(this.activationFailed(failure));
      if (waiting > 0) this.hooks.activationFailed?.(failure, waiting);
    } else {
      this.startColdSpellIfCold();
    }
  }

  /** Fails everyone waiting with `err`. */
  failAll(err: ActivatorError): void {
    const waiting = this.queue?.drain() ?? [];
    this.coldSince = undefined;
    for (const w of waiting) {
      clearTimeout(w.waitTimer);
      w.fail(err);
    }
  }

  private dispatch(): void {
    const queue = this.queue;
    if (!queue) return;
    while (queue.count > 0) {
      const w = queue.peek();
      if (!w) return;
      const r = this.pick(w.avoid, w.hashKey);
      if (!r) return;
      queue.remove(w);
      clearTimeout(w.waitTimer);
      r.inFlight++;
      if (this.coldSince !== undefined) {
        this.hooks.coldStartServed(this.hooks.now() - this.coldSince);
        this.coldSince = undefined;
      }
      w.grant(r);
    }
  }

  private pick(avoid: Replica | undefined, hashKey: number | undefined): Replica | undefined {
    if (this.ejected > 0 && this.hooks.now() >= this.nextReturn) this.returnEjected();
    const replicas = this.eligible;
    let i: number;
    // A consistentHash request without a key is balanced as by the default policy.
    const policy = this.policy === 'consistent-hash' && hashKey === undefined ? policyFor(this.containerConcurrency) : this.policy;
    switch (policy) {
      case 'first-available':
        i = firstAvailable(replicas);
        break;
      case 'round-robin':
        i = roundRobin(replicas, this.cursor);
        break;
      case 'power-of-two-choices':
        i = powerOfTwoChoices(replicas, this.limits.random);
        break;
      case 'least-request':
        i = leastRequest(replicas, this.balancing.choiceCount, this.limits.random);
        break;
      case 'consistent-hash':
        i = rendezvous(replicas, hashKey as number);
        break;
    }
    if (i < 0) return undefined;
    if (avoid !== undefined && replicas[i] === avoid) {
      // A preference, not a rule: with no other free replica, the same one is still
      // better than waiting (a reset on a stale keep-alive socket is not the replica's fault).
      // A hashed request goes to its key's next choice, where its next retry would go too.
      const other = policy === 'consistent-hash' ? rendezvous(replicas, hashKey as number, avoid) : replicas.findIndex((r) => r !== avoid && hasFreeSlot(r));
      if (other >= 0) i = other;
    }
    if (policy === 'round-robin') this.cursor = i + 1;
    return replicas[i];
  }

  private policyNow(): PolicyName {
    switch (this.balancing.policy) {
      case 'leastRequest':
        return 'least-request';
      case 'consistentHash':
        return this.balancing.hashOn ? 'consistent-hash' : policyFor(this.containerConcurrency);
      case 'default':
        return policyFor(this.containerConcurrency);
    }
  }

  /** Ends the ejections that are due. */
  private returnEjected(): void {
    const now = this.hooks.now();
    for (const r of this.replicas) if (r.ejectedUntil !== 0 && r.ejectedUntil <= now) r.ejectedUntil = 0;
    this.refreshEligible();
  }

  /**
   * Recounts the ejected replicas and the candidates after an ejection, a return or a new
   * endpoint set. When the set shrank under them, more may be out than the limit allows
   * (2 of 5 at 40 %, then 2 of 3): the ones due back soonest come back until the limit
   * holds again, so never all are out and never more than maxEjectionPercent.
   */
  private refreshEligible(): void {
    let ejected = 0;
    for (const r of this.replicas) if (r.ejectedUntil !== 0) ejected++;
    const limit = ejectionLimit(this.replicas.length, this.balancing.outlier?.maxEjectionPercent ?? 100);
    if (ejected > limit) {
      const out = this.replicas.filter((r) => r.ejectedUntil !== 0).sort((a, b) => a.ejectedUntil - b.ejectedUntil);
      for (const r of out.slice(0, ejected - limit)) r.ejectedUntil = 0;
      ejected = limit;
    }
    let next = Infinity;
    for (const r of this.replicas) if (r.ejectedUntil !== 0) next = Math.min(next, r.ejectedUntil);
    this.ejected = ejected;
    this.nextReturn = ejected > 0 ? next : Infinity;
    this.eligible = ejected > 0 ? this.replicas.filter((r) => r.ejectedUntil === 0) : this.replicas;
  }

  private expire(w: Waiter, limitMs: number): void {
    if (!w.queueSlot) return;
    this.queue?.remove(w);
    const within = `${limitMs / 1000}s`;
    const err =
      this.replicas.length === 0
        ? new ActivatorError('activation_timeout', `function ${this.id} did not become ready within ${within}`)
        : new ActivatorError(
            'queue_timeout',
            `function ${this.id} had no free replica within ${within} (${this.replicas.length} ready, each at containerConcurrency ${this.containerConcurrency})`,
          );
    this.endColdSpellIfEmpty();
    w.fail(err);
  }

  private startColdSpellIfCold(): void {
    if (this.replicas.length > 0 || this.queueDepth === 0 || this.coldSince !== undefined) return;
    this.coldSince = this.hooks.now();
    this.hooks.poke();
  }

  private endColdSpellIfEmpty(): void {
    // The next request after an abandoned cold spell starts a new one, and pokes again.
    if (this.queueDepth === 0) this.coldSince = undefined;
  }

  queueFullError(): ActivatorError {
    const mib = (this.limits.maxQueueBytes / (1024 * 1024)).toFixed(0);
    return new ActivatorError(
      'queue_full',
      `function ${this.id} has too many requests waiting (limit ${this.limits.maxQueue} requests or ${mib} MiB of bodies); retry later`,
      { retryAfterSeconds: this.limits.retryAfterSeconds },
    );
  }

  private activationFailed(f: ActivationFailure): ActivatorError {
    return new ActivatorError('activation_failed', `function ${this.id} cannot become ready: ${f.reason}: ${f.message}`);
  }
}
