// Over 300 lines: one class, ApiClient, whose parts share its deadline bookkeeping and redactor: the
// retry loop (what may be resent and when), one attempt with its body limit and trace, paging that
// keeps credentials on the API's origin, and the mapping of every failure to an exit code. Splitting
// them would pass that state between files without making any part shorter to read.
import { setMaxListeners } from 'node:events';
import type { Agent, Dispatcher } from 'undici';
import { ApiError, AuthError, NetworkError, NotFoundError, UtrigError } from '../errors.js';
import { escapeControls } from '../output/escape.js';
import { quoteLink, resolveApiLink } from './base-url.js';
import { Redactor } from './redact.js';
import type { TriggerPage, UsageTrigger } from './types.js';

export interface Credentials {
  /** The account whose resources are addressed in paths (may be a subaccount). */
  accountSid: string;
  /** Basic-auth user: an account SID or an API key SID. */
  username: string;
  /** Basic-auth password: the auth token or API key secret. Never printed. */
  password: string;
}

export interface ClientOptions {
  baseUrl: string;
  credentials: Credentials;
  userAgent: string;
  /**
   * The overall deadline of the command, in milliseconds (--timeout): the time spent waiting on the API,
   * every attempt, retry sleep and Retry-After wait included, summed over all its requests.
   */
  timeoutMs: number;
  /** Called with each line of the request/response trace (secrets already redacted, control characters escaped). */
  trace?: ((line: string) => void) | undefined;
  /** Retries after 429, 503 or a dropped connection for GET and DELETE. */
  maxRetries?: number;
  /** Base of the exponential backoff when the server gives no Retry-After, in ms. */
  backoffMs?: number;
  /** Waits before a retry; injectable so tests need not sleep. */
  sleep?: (ms: number) => Promise<void>;
  /** Aborts every request in flight (e.g. a completion's overall deadline). */
  signal?: AbortSignal;
  /**
   * Resend a create (POST) answered 429 too: Twilio documents its 429 (error 20429) as never processed
   * and always safe to retry. Off by default; the fleet engine turns it on.
   */
  retryWritesOn429?: boolean;
  /** Told of every attempt's answer (status 0: no answer), e.g. to count requests and adapt to 429s. */
  onResponse?: (status: number, headers: Record<string, string | string[] | undefined>) => void;
}

interface Attempt {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * A non-idempotent request (a create) was sent and no answer came back: it may or may not have been applied.
 * Still a network failure (exit 5), but never worded as "could not reach".
 */
export class OutcomeUnknownError extends NetworkError {
  /** What happened, without the "may have been applied" preamble (a command words its own). */
  readonly reason: string;
  constructor(method: string, reason: string, cause?: unknown) {
    super(`the ${method} request may have been applied: ${reason}`, { cause, hint: 'check the result before sending it again' });
    this.reason = reason;
  }
}

/** The deadline aborted a request in flight; turned into a UtrigError by the retry loop. */
class DeadlineExceeded extends Error {}

const RETRY_STATUS = new Set([429, 503]);
/** Error codes that prove the request never left this machine (safe to resend even a create). */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** A response body larger than this is refused: a page of 1,000 triggers is about 1 MiB. */
const MAX_BODY_BYTES = 256 * 1024 * 1024;
/** The longest trace line of a body. */
const TRACE_BODY_MAX = 2000;

/** A monotonic clock in ms: the global `performance` costs ~5 ms of start-up to load (issue 10). */
const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

let sharedAgent: Agent | undefined;
let sharedTimeout = 0;

/**
 * undici, loaded on the first request: commands that send none (help, categories) start faster. Kept once
 * loaded: in the bundle each import() of a CommonJS package builds a new namespace object over its ~100
 * exports (~13 ms and ~2 MB of garbage over a 1,000-account fleet run).
 */
const importUndici = () => import('undici');
let undici: ReturnType<typeof importUndici> | undefined;
const loadUndici = () => (undici ??= importUndici());

/** One keep-alive dispatcher per process. */
async function agentFor(timeoutMs: number): Promise<Dispatcher> {
  if (!sharedAgent || sharedTimeout !== timeoutMs) {
    const { Agent } = await loadUndici();
    sharedAgent = new Agent({
      connect: { timeout: timeoutMs },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      keepAliveTimeout: 10_000,
    });
    sharedTimeout = timeoutMs;
  }
  return sharedAgent;
}

/** Closes the shared dispatcher so the process can exit promptly. */
export async function closeDispatcher(): Promise<void> {
  const a = sharedAgent;
  sharedAgent = undefined;
  if (a) await a.close().catch(() => undefined);
}

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Twilio's REST API for usage triggers, over undici. */
export class ApiClient {
  readonly accountSid: string;
  readonly baseUrl: string;
  private readonly opts: ClientOptions;
  private readonly authHeader: string;
  private readonly maxRetries: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly redactor = new Redactor();
  /** Time already spent waiting on the API, and since when a request has been in flight (deadline bookkeeping). */
  private spentMs = 0;
  private busySince = 0;
  private busy = 0;

  /** True when the credentials are an API key (SK…), which Twilio keeps off /Accounts unless it is a Main key. */
  get usesApiKey(): boolean {
    return this.opts.credentials.username.startsWith('SK');
  }

  constructor(opts: ClientOptions) {
    this.opts = opts;
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.accountSid = opts.credentials.accountSid;
    this.authHeader =
      'Basic ' + Buffer.from(`${opts.credentials.username}:${opts.credentials.password}`).toString('base64');
    this.maxRetries = opts.maxRetries ?? 3;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.redactor.add(opts.credentials.password);
    // each request in flight listens on it (see attempt): a fleet has up to --concurrency at once
    if (opts.signal) setMaxListeners(0, opts.signal);
  }

  /** The same credentials, options and connection pool, addressing another (sub)account, with its own deadline. */
  forAccount(accountSid: string, extra: Partial<ClientOptions> = {}): ApiClient {
    return new ApiClient({ ...this.opts, ...extra, credentials: { ...this.opts.credentials, accountSid } });
  }

  private triggersPath(sid?: string): string {
    const base = `/2010-04-01/Accounts/${this.accountSid}/Usage/Triggers`;
    return sid === undefined ? `${base}.json` : `${base}/${sid}.json`;
  }

  /** Creates a trigger. Sent once: resent only when the first attempt certainly never reached the server. */
  async createTrigger(form: URLSearchParams): Promise<UsageTrigger> {
    return (await this.send('POST', this.triggersPath(), form)) as UsageTrigger;
  }

  /** Fetches one trigger. */
  async fetchTrigger(sid: string): Promise<UsageTrigger> {
    return (await this.send('GET', this.triggersPath(sid))) as UsageTrigger;
  }

  /** Updates the updatable fields of a trigger. */
  async updateTrigger(sid: string, form: URLSearchParams): Promise<UsageTrigger> {
    return (await this.send('POST', this.triggersPath(sid), form)) as UsageTrigger;
  }

  /** Deletes a trigger. */
  async deleteTrigger(sid: string): Promise<void> {
    await this.send('DELETE', this.triggersPath(sid));
  }

  /** Fetches an account (verifies credentials). */
  async fetchAccount(sid: string): Promise<Record<string, unknown>> {
    return (await this.send('GET', `/2010-04-01/Accounts/${sid}.json`)) as Record<string, unknown>;
  }

  /** The all-time usage record of one category, or undefined when the API has none. */
  async fetchUsageRecord(category: string): Promise<Record<string, unknown> | undefined> {
    const q = new URLSearchParams({ Category: category });
    const page = (await this.send('GET', `/2010-04-01/Accounts/${this.accountSid}/Usage/Records.json?${q}`)) as {
      usage_records?: Record<string, unknown>[];
    };
    return page.usage_records?.[0];
  }

  /**
   * Walks every page of the trigger list, following next_page_uri. A link that leaves the API's origin, or
   * that repeats a page already read, ends the walk with an error: nothing is sent to it.
   */
  listTriggerPages(query: URLSearchParams): AsyncGenerator<TriggerPage> {
    return this.walkPages<TriggerPage>(`${this.triggersPath()}?${query}`);
  }

  /** Walks every page of a list from its first path, on the rules of listTriggerPages. */
  async *walkPages<P extends { next_page_uri?: unknown }>(first: string): AsyncGenerator<P> {
    let path: string | null = first;
    const seen = new Set<string>();
    while (path) {
      const page = (await this.send('GET', path)) as P;
      seen.add(new URL(path, this.baseUrl + '/').href);
      yield page;
      const next: unknown = page.next_page_uri ?? null;
      if (next === null || next === '') return;
      if (typeof next !== 'string') throw new ApiError('the API answered a next_page_uri that is not a string', { status: 200 });
      const u = resolveApiLink(this.baseUrl, next);
      if (!u) {
        throw new ApiError(
          `the API answered a next_page_uri that leaves ${this.baseUrl}: ${quoteLink(next)}; not followed (credentials go only to the API's origin)`,
          { status: 200 },
        );
      }
      if (seen.has(u.href)) {
        throw new ApiError(`the API answered a next_page_uri that repeats a page already listed: ${quoteLink(next)}; stopped`, { status: 200 });
      }
      path = u.pathname + u.search;
    }
  }

  /** Performs one API call with retries within the deadline, and turns errors into UtrigErrors. */
  async send(method: string, path: string, form?: URLSearchParams): Promise<unknown> {
    const resolved = resolveApiLink(this.baseUrl, path);
    if (!resolved) throw new ApiError(`refusing to send credentials to ${quoteLink(path)}: not on ${this.baseUrl}`, { status: 0 });
    // Loading undici is start-up work, not waiting on the API: keep it out of the deadline.
    await agentFor(this.opts.timeoutMs);
    if (this.busy++ === 0) this.busySince = monotonicMs();
    try {
      return await this.sendWithin(method, resolved.href, form?.toString());
    } finally {
      if (--this.busy === 0) this.spentMs += monotonicMs() - this.busySince;
    }
  }

  /** What is left of --timeout, in ms. */
  private remainingMs(): number {
    const inFlight = this.busy > 0 ? monotonicMs() - this.busySince : 0;
    return this.opts.timeoutMs - this.spentMs - inFlight;
  }

  private async sendWithin(method: string, url: string, body: string | undefined): Promise<unknown> {
    const retryable = method === 'GET' || method === 'DELETE';
    let droppedOnce = false;
    for (let attempt = 0; ; attempt++) {
      const attempts = attempt + 1;
      const left = this.remainingMs();
      if (left <= 0) throw this.deadlineError(method, attempt, false);
      let res: Attempt;
      try {
        res = await this.attempt(method, url, body, left);
        this.opts.onResponse?.(res.status, res.headers);
      } catch (err) {
        this.opts.onResponse?.(0, {});
        if (err instanceof UtrigError) throw err;
        if (err instanceof DeadlineExceeded) throw this.deadlineError(method, attempts, true);
        const code = errorCode(err);
        const neverSent = code !== undefined && NOT_SENT_CODES.has(code);
        if (!retryable && !neverSent) {
          throw new OutcomeUnknownError(method, `the connection to ${this.host()} failed after the request was sent (${code ?? 'no answer'})`, err);
        }
        if (attempt < this.maxRetries) {
          droppedOnce = true;
          const wait = this.backoff(attempt);
          if (wait >= this.remainingMs()) throw this.networkError(err, code, `gave up within ${this.timeoutText()} (${plural(attempts, 'attempt')}): `);
          this.trace(`! ${code ?? 'connection error'}; retrying in ${wait} ms`);
          await this.sleep(wait);
          continue;
        }
        throw this.networkError(err, code, '', attempts > 1 ? ` after ${plural(attempts, 'attempt')}` : '');
      }
      const again = retryable ? RETRY_STATUS.has(res.status) : res.status === 429 && this.opts.retryWritesOn429 === true;
      if (again && attempt < this.maxRetries) {
        const asked = this.retryAfter(res.headers['retry-after']);
        const wait = asked ?? this.backoff(attempt);
        if (wait >= this.remainingMs()) {
          const why = asked !== undefined ? `; the server asked to retry after ${formatSeconds(asked)}` : '';
          throw this.httpError(res, `gave up within ${this.timeoutText()} (${plural(attempts, 'attempt')}${why}): `);
        }
        this.trace(`! HTTP ${res.status}; retrying in ${wait} ms`);
        await this.sleep(wait);
        continue;
      }
      // A DELETE resent after a dropped connection may find the first one already did the work.
      if (method === 'DELETE' && res.status === 404 && droppedOnce) return undefined;
      if (res.status >= 200 && res.status < 300) {
        if (res.status === 204 || res.text === '') return undefined;
        try {
          return JSON.parse(res.text) as unknown;
        } catch {
          throw new ApiError(`the API answered ${res.status} with a body that is not JSON`, { status: res.status });
        }
      }
      throw this.httpError(res, '', attempts > 1 ? ` after ${plural(attempts, 'attempt')}` : '');
    }
  }

  /** One request, aborted when what is left of the deadline (leftMs) runs out; a body over the limit is refused. */
  private async attempt(method: string, url: string, body: string | undefined, leftMs: number): Promise<Attempt> {
    const headers: Record<string, string> = {
      authorization: this.authHeader,
      accept: 'application/json',
      'user-agent': this.opts.userAgent,
    };
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    this.trace(`> ${method} ${url}`);
    this.trace(`> Authorization: Basic [redacted]`);
    if (body !== undefined) this.trace(`> ${body}`);
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new DeadlineExceeded('deadline')), Math.max(1, Math.ceil(leftMs)));
    // the outer signal (a fleet's, alive for the whole run) aborts this attempt through a listener removed
    // when the attempt ends: AbortSignal.any() would leave one entry per request on that signal (Node 20)
    const outer = this.opts.signal;
    const onOuterAbort = () => deadline.abort(outer!.reason);
    if (outer?.aborted) onOuterAbort();
    else outer?.addEventListener('abort', onOuterAbort, { once: true });
    const signal = deadline.signal;
    try {
      const { request } = await loadUndici();
      const started = monotonicMs();
      const res = await request(url, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body,
        dispatcher: await agentFor(this.opts.timeoutMs),
        signal,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) {
          res.body.destroy();
          throw new ApiError(`the API answered with a body over ${MAX_BODY_BYTES / 1024 / 1024} MiB; refused`, { status: res.statusCode });
        }
        chunks.push(chunk as Buffer);
      }
      const text = Buffer.concat(chunks).toString('utf8');
      this.trace(`< ${res.statusCode} (${Math.round(monotonicMs() - started)} ms)`);
      if (text && this.opts.trace) {
        const shown = this.redactor.body(text);
        this.trace(`< ${shown.length > TRACE_BODY_MAX ? shown.slice(0, TRACE_BODY_MAX) + '…' : shown}`);
      }
      return { status: res.statusCode, headers: res.headers, text };
    } catch (err) {
      if (deadline.signal.aborted && !this.opts.signal?.aborted) throw new DeadlineExceeded('deadline', { cause: err });
      throw err;
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
    }
  }

  /** A trace line reaches a person: secrets scrubbed first, then the server's control characters made visible. */
  private trace(line: string): void {
    this.opts.trace?.(escapeControls(this.redactor.scrub(line)));
  }

  private host(): string {
    return new URL(this.baseUrl).host;
  }

  private timeoutText(): string {
    return `--timeout ${formatSeconds(this.opts.timeoutMs)}`;
  }

  private backoff(attempt: number): number {
    const base = this.opts.backoffMs ?? 250;
    return Math.round(base * 2 ** attempt * (0.8 + Math.random() * 0.4));
  }

  /** Retry-After in ms (seconds or an HTTP date), uncapped: the deadline decides whether it can be honoured. */
  private retryAfter(header: string | string[] | undefined): number | undefined {
    const v = Array.isArray(header) ? header[0] : header;
    if (v === undefined) return undefined;
    if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
    const when = Date.parse(v);
    if (Number.isFinite(when)) return Math.max(0, when - Date.now());
    return undefined;
  }

  /** The deadline passed, while a request was in flight (inFlight) or before the next attempt could start. */
  private deadlineError(method: string, attempts: number, inFlight: boolean): UtrigError {
    const what =
      attempts === 0
        ? `the command's earlier requests used all of ${this.timeoutText()}`
        : `no answer from ${this.host()} within ${this.timeoutText()} (${plural(attempts, 'attempt')})`;
    if (inFlight && method === 'POST') return new OutcomeUnknownError(method, what);
    return new NetworkError(`timed out: ${what}`, {
      hint: 'raise --timeout, or check the network; UTRIG_API_URL and TWILIO_REGION/TWILIO_EDGE choose the host',
    });
  }

  private networkError(err: unknown, code: string | undefined, prefix = '', suffix = ''): UtrigError {
    const host = this.host();
    const what =
      code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
        ? `timed out talking to ${host}`
        : `could not reach ${host}${code ? ` (${code})` : ''}`;
    return new NetworkError(prefix + what + suffix, {
      cause: err,
      hint: 'check the network, or raise --timeout; UTRIG_API_URL and TWILIO_REGION/TWILIO_EDGE choose the host',
    });
  }

  private httpError(res: Attempt, prefix = '', suffix = ''): UtrigError {
    let code: number | undefined;
    let message = `HTTP ${res.status}`;
    let moreInfo: string | undefined;
    try {
      const j = JSON.parse(res.text) as { code?: unknown; message?: unknown; more_info?: unknown };
      if (typeof j.code === 'number') code = j.code;
      if (typeof j.message === 'string') message = this.redactor.body(j.message);
      if (typeof j.more_info === 'string') moreInfo = this.redactor.body(j.more_info);
    } catch {
      // not Twilio's error JSON: keep the status line
    }
    const label = prefix + (code !== undefined ? `${message} (Twilio ${code}, HTTP ${res.status})` : `${message} (HTTP ${res.status})`) + suffix;
    if (res.status === 401 || res.status === 403) {
      return new AuthError(label, {
        status: res.status,
        ...(code !== undefined ? { code } : {}),
        hint: 'check the credentials: run `utrig login`, or set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN',
      });
    }
    if (res.status === 404) return new NotFoundError(label, code !== undefined ? { code } : {});
    // a hint keeps its line breaks (ours are multi-line), so the server's link is escaped here, line feeds too
    return new ApiError(label, { status: res.status, code, moreInfo, hint: moreInfo ? `see ${escapeControls(moreInfo)}` : undefined });
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Milliseconds as seconds for messages: "5 s", "0.3 s", "86400 s". */
function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
