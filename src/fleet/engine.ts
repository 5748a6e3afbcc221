import type { ApiClient } from '../api/client.js';
import { UtrigError } from '../errors.js';
import type { Progress } from './progress.js';

// One fan-out engine for every fleet command: runs one task per account with bounded, adaptive
// concurrency, on the API client's retry rules (one client per account, one keep-alive pool for all).
//
// Adaptive on 429: Twilio's concurrency limit is per account family (the parent and all its
// subaccounts) and shared with the customer's live traffic. A 429 (20429: "never processed, safe to
// retry") lowers the limit at once: to just under Twilio-Concurrent-Requests when the answer carries it,
// otherwise by a quarter (at most once per quarter second, so one burst of 429s is one cut). Each
// success adds 1/limit, so the limit grows by about one per round of requests, back up to just under
// where the last 429 came; past that only after PROBE_AFTER_MS without a 429 (the customer's own traffic
// may have eased). Climbing straight back through the limit cost a 429 every other round, and a 429 near
// the end of a run is its last account waiting out a Retry-After alone (the c60 bench: ~1 s of 4).
// The request that got the 429 waits its Retry-After (the client's retry loop, capped by --timeout) with
// its slot given back, so the accounts that do have a slot keep going; it then queues ahead of accounts
// not yet started.

/** A task was stopped by Ctrl-C before its next step: what it had not sent did not happen. */
export class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

/** What one account's task receives. */
export interface TaskContext<E> {
  account: string;
  /** A client for this account: its own --timeout budget, the engine's pool, retries and 429 handling. */
  client: ApiClient;
  /** Aborted on Ctrl-C: check before each step that changes something. */
  signal: AbortSignal;
  /** Hands data (e.g. a page of rows) to the consumer; waits while the consumer is behind (flat memory). */
  emit(item: E): Promise<void>;
}

/** How one account ended. */
export type AccountOutcome<R> =
  | { account: string; status: 'ok'; value: R }
  | { account: string; status: 'failed'; error: UtrigError }
  | { account: string; status: 'interrupted' | 'not-started' }
  /** in flight at a second Ctrl-C: its request was abandoned, so whether its change was made is unknown */
  | { account: string; status: 'abandoned' };

/** What the engine yields, in the order things happen. */
export type FleetEvent<R, E> = { type: 'item'; account: string; item: E } | { type: 'done'; outcome: AccountOutcome<R> };

export interface EngineOptions {
  /** The most accounts worked on at once (--concurrency). */
  concurrency: number;
  /**
   * Ctrl-C: stop starting new accounts; a task's next step sees it. A second Ctrl-C is an 'abandon'
   * event dispatched on this signal (cancelable; the engine cancels it to say it handles it): the
   * requests in flight are aborted and their accounts end as 'abandoned'.
   */
  signal: AbortSignal;
  /** Progress on stderr (terminal only), or undefined. */
  progress?: Progress | undefined;
}

/** Counters for progress and the summary. */
export interface EngineStats {
  /** Accounts known so far; more may come while `listing`. */
  total: number;
  listing?: boolean;
  done: number;
  failed: number;
  requests: number;
  throttled: number;
  startedMs: number;
}

/** The longest wait a 429 cut shields the limit from further cuts. */
const CUT_GUARD_MS = 250;
/** After a 429 the limit stays under the concurrency it came at until this long has passed without one. */
const PROBE_AFTER_MS = 5_000;
/** Retries of one request (429, 503, dropped): more than the single client's 3, since 429s are expected here. */
const FLEET_MAX_RETRIES = 8;

export class FleetEngine {
  readonly stats: EngineStats = { total: 0, done: 0, failed: 0, requests: 0, throttled: 0, startedMs: performance.now() };
  private limit: number;
  private readonly max: number;
  private active = 0;
  private lastCut = -Infinity;
  /** The concurrency the last 429 came at: the limit climbs back to just under it (see PROBE_AFTER_MS). */
  private ceiling = Infinity;
  /** Waiting for a slot: retries (a request already under way) before accounts not yet started. */
  private readonly retryWaiters: (() => void)[] = [];
  private readonly newWaiters: (() => void)[] = [];
  /** Aborts every request in flight (a second Ctrl-C). */
  private readonly abandon = new AbortController();

  constructor(
    private readonly base: ApiClient,
    private readonly o: EngineOptions,
  ) {
    this.max = o.concurrency;
    this.limit = o.concurrency;
    o.signal.addEventListener('abandon', (ev) => {
      ev.preventDefault();
      this.abandon.abort();
    });
  }

  /** True once a second Ctrl-C abandoned the requests in flight. */
  get abandoned(): boolean {
    return this.abandon.signal.aborted;
  }

  /** The current concurrency (lowered after 429s, raised again slowly). */
  get concurrency(): number {
    return Math.floor(this.limit);
  }

  private wake(): void {
    while (this.active < Math.max(1, Math.floor(this.limit))) {
      const w = this.retryWaiters.shift() ?? this.newWaiters.shift();
      if (!w) return;
      this.active++;
      w();
    }
  }

  private acquire(retry: boolean): Promise<void> {
    return new Promise((resolve) => {
      (retry ? this.retryWaiters : this.newWaiters).push(resolve);
      this.wake();
    });
  }

  private release(): void {
    this.active--;
    this.wake();
  }

  private onResponse(status: number, headers: Record<string, string | string[] | undefined>): void {
    this.stats.requests++;
    this.o.progress?.tick();
    if (status === 429) {
      this.stats.throttled++;
      const h = headers['twilio-concurrent-requests'];
      const seen = Number(Array.isArray(h) ? h[0] : h);
      const now = performance.now();
      if (Number.isInteger(seen) && seen > 0) {
        this.ceiling = seen;
        this.limit = Math.max(1, Math.min(this.limit, seen - 1));
      } else if (now - this.lastCut > CUT_GUARD_MS) {
        this.ceiling = Math.max(2, Math.floor(this.limit));
        this.limit = Math.max(1, this.limit * 0.75);
      }
      this.lastCut = now;
    } else if (status >= 200 && status < 400 && this.limit < this.max) {
      const cap = performance.now() - this.lastCut > PROBE_AFTER_MS ? this.max : Math.min(this.max, Math.max(1, this.ceiling - 1));
      if (this.limit < cap) this.limit = Math.min(cap, this.limit + 1 / Math.max(1, this.limit));
      this.wake();
    }
  }

  /**
   * Runs a request of the run's own (the next page of the accounts list) within the concurrency, so the
   * account family sees no more than --concurrency requests from this run; it goes ahead of accounts not yet started.
   */
  async withSlot<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(true);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  /** A retry wait that gives the slot back meanwhile; Ctrl-C ends it at once. */
  private async retrySleep(ms: number): Promise<void> {
    this.release();
    try {
      await sleepUnless(ms, this.o.signal);
    } finally {
      await this.acquire(true);
    }
    if (this.o.signal.aborted) throw new Interrupted();
  }

  /**
   * Runs task once for each account and yields its items and outcomes as they happen (accounts finish in
   * any order). One account's failure never stops the others. After Ctrl-C no new account starts; those
   * are yielded as not-started.
   */
  async *run<R, E>(
    accounts: readonly string[] | AsyncIterable<string>,
    task: (t: TaskContext<E>) => Promise<R>,
    /** How many accounts there are so far and whether more may come, when they arrive as they are listed (the progress line's total). */
    listed?: () => { count: number; complete: boolean },
  ): AsyncGenerator<FleetEvent<R, E>> {
    const known = () => {
      const l = listed ? listed() : { count: (accounts as readonly string[]).length, complete: true };
      this.stats.total = l.count;
      this.stats.listing = !l.complete;
    };
    known();
    this.stats.done = 0;
    this.o.progress?.start(this.stats);
    const queue: FleetEvent<R, E>[] = [];
    // the consumer's pace bounds memory: a task that emits, and the dispatcher before starting an
    // account, wait while this many events are unread
    const cap = Math.max(4, 2 * this.max);
    let notify: (() => void) | undefined;
    const spaceWaiters: (() => void)[] = [];
    const push = (ev: FleetEvent<R, E>) => {
      queue.push(ev);
      notify?.();
    };
    const client = (account: string) =>
      this.base.forAccount(account, {
        retryWritesOn429: true,
        maxRetries: FLEET_MAX_RETRIES,
        sleep: (ms) => this.retrySleep(ms),
        onResponse: (s, h) => this.onResponse(s, h),
        signal: this.abandon.signal,
      });
    const runOne = async (account: string): Promise<void> => {
      const t: TaskContext<E> = {
        account,
        client: client(account),
        signal: this.o.signal,
        emit: async (item) => {
          while (queue.length >= cap) await new Promise<void>((r) => spaceWaiters.push(r));
          push({ type: 'item', account, item });
        },
      };
      let outcome: AccountOutcome<R>;
      try {
        outcome = { account, status: 'ok', value: await task(t) };
      } catch (err) {
        // whatever the task made of the aborted request, what it was doing is no longer known
        if (this.abandon.signal.aborted) outcome = { account, status: 'abandoned' };
        else if (err instanceof Interrupted) outcome = { account, status: 'interrupted' };
        else outcome = { account, status: 'failed', error: toUtrigError(err) };
      } finally {
        this.release();
      }
      this.stats.done++;
      if (outcome.status === 'failed') this.stats.failed++;
      push({ type: 'done', outcome });
    };

    let running = 0;
    const it: Iterator<string> | AsyncIterator<string> = Symbol.asyncIterator in accounts ? accounts[Symbol.asyncIterator]() : accounts[Symbol.iterator]();
    /** An account taken from the list but not started (Ctrl-C came while it waited for a slot). */
    let held: string | undefined;
    const aborted = abortPromise(this.o.signal);
    const dispatch = (async () => {
      for (;;) {
        if (this.o.signal.aborted) break;
        // an account's result waits in the queue until the consumer reads it: while the consumer is
        // behind (a slow pipe, a paused terminal), no new account starts, so results never pile up
        while (queue.length >= cap && !this.o.signal.aborted) await Promise.race([new Promise<void>((r) => spaceWaiters.push(r)), aborted]);
        if (this.o.signal.aborted) break;
        const r = await it.next();
        if (r.done) break;
        known();
        await Promise.race([this.acquire(false), aborted]);
        if (this.o.signal.aborted) {
          this.forgetNewWaiter();
          held = r.value;
          break;
        }
        running++;
        void runOne(r.value).finally(() => {
          running--;
          notify?.();
        });
      }
    })();
    let dispatched = false;
    void dispatch.then(() => {
      dispatched = true;
      notify?.();
    });

    try {
      for (;;) {
        while (queue.length > 0) {
          const ev = queue.shift()!;
          // every waiter re-checks the room it needs (an emit, or the dispatcher before a new account)
          for (const w of spaceWaiters.splice(0)) w();
          yield ev;
        }
        if (dispatched && running === 0 && queue.length === 0) break;
        await new Promise<void>((r) => (notify = r));
        notify = undefined;
      }
      // after Ctrl-C the list gives only the accounts it already has (no further page is read)
      if (held !== undefined) yield { type: 'done', outcome: { account: held, status: 'not-started' } };
      for (let r = await it.next(); !r.done; r = await it.next()) yield { type: 'done', outcome: { account: r.value, status: 'not-started' } };
      known();
    } finally {
      this.o.progress?.stop();
    }
  }

  /** After Ctrl-C the dispatcher's pending slot request may have been granted or not: give it back either way. */
  private forgetNewWaiter(): void {
    if (this.newWaiters.length > 0) this.newWaiters.pop();
    else this.release();
  }
}

function toUtrigError(err: unknown): UtrigError {
  if (err instanceof UtrigError) return err;
  return new UtrigError(`unexpected failure: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

function abortPromise(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

function sleepUnless(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
