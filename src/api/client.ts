import type { Agent, Dispatcher } from 'undici';
import { ApiError, AuthError, NetworkError, NotFoundError, UtrigError } from '../errors.js';
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
  /** Connect and read timeout, in milliseconds. */
  timeoutMs: number;
  /** Called with each line of the request/response trace (secrets already redacted). */
  trace?: ((line: string) => void) | undefined;
  /** Retries after 429, 503 or a dropped connection for GET and DELETE. */
  maxRetries?: number;
  /** Base of the exponential backoff when the server gives no Retry-After, in ms. */
  backoffMs?: number;
  /** Waits before a retry; injectable so tests need not sleep. */
  sleep?: (ms: number) => Promise<void>;
  /** Aborts every request in flight (e.g. a completion's overall deadline). */
  signal?: AbortSignal;
}

interface Attempt {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

const RETRY_STATUS = new Set([429, 503]);
/** Error codes that prove the request never left this machine (safe to resend even a create). */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const MAX_RETRY_AFTER_S = 60;

let sharedAgent: Agent | undefined;
let sharedTimeout = 0;

/** undici, loaded on the first request: commands that send none (help, categories) start faster. */
const loadUndici = () => import('undici');

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

  constructor(opts: ClientOptions) {
    this.opts = opts;
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.accountSid = opts.credentials.accountSid;
    this.authHeader =
      'Basic ' + Buffer.from(`${opts.credentials.username}:${opts.credentials.password}`).toString('base64');
    this.maxRetries = opts.maxRetries ?? 3;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
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

  /** Walks every page of the trigger list, following next_page_uri. */
  async *listTriggerPages(query: URLSearchParams): AsyncGenerator<TriggerPage> {
    let path: string | null = `${this.triggersPath()}?${query}`;
    while (path) {
      const page = (await this.send('GET', path)) as TriggerPage;
      yield page;
      path = page.next_page_uri ?? null;
    }
  }

  /** Performs one API call with retries, and turns errors into UtrigErrors. */
  async send(method: string, path: string, form?: URLSearchParams): Promise<unknown> {
    const url = new URL(path, this.baseUrl + '/').toString();
    const body = form?.toString();
    const retryable = method === 'GET' || method === 'DELETE';
    let droppedOnce = false;
    for (let attempt = 0; ; attempt++) {
      let res: Attempt;
      try {
        res = await this.attempt(method, url, body);
      } catch (err) {
        const code = errorCode(err);
        const neverSent = code !== undefined && NOT_SENT_CODES.has(code);
        if (attempt < this.maxRetries && (retryable || neverSent)) {
          droppedOnce = true;
          const wait = this.backoff(attempt);
          this.trace(`! ${code ?? 'connection error'}; retrying in ${wait} ms`);
          await this.sleep(wait);
          continue;
        }
        throw this.networkError(err, code);
      }
      if (retryable && RETRY_STATUS.has(res.status) && attempt < this.maxRetries) {
        const wait = this.retryAfter(res.headers['retry-after']) ?? this.backoff(attempt);
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
        } catch (err) {
          throw new ApiError(`the API answered ${res.status} with a body that is not JSON`, { status: res.status });
        }
      }
      throw this.httpError(res);
    }
  }

  private async attempt(method: string, url: string, body: string | undefined): Promise<Attempt> {
    const headers: Record<string, string> = {
      authorization: this.authHeader,
      accept: 'application/json',
      'user-agent': this.opts.userAgent,
    };
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    this.trace(`> ${method} ${url}`);
    this.trace(`> Authorization: Basic [redacted]`);
    if (body !== undefined) this.trace(`> ${body}`);
    const { request } = await loadUndici();
    const started = performance.now();
    const res = await request(url, {
      method: method as Dispatcher.HttpMethod,
      headers,
      body,
      dispatcher: await agentFor(this.opts.timeoutMs),
      signal: this.opts.signal,
    });
    const text = await res.body.text();
    this.trace(`< ${res.statusCode} (${Math.round(performance.now() - started)} ms)`);
    if (text) this.trace(`< ${text.length > 2000 ? text.slice(0, 2000) + '…' : text}`);
    return { status: res.statusCode, headers: res.headers, text };
  }

  private trace(line: string): void {
    this.opts.trace?.(line);
  }

  private backoff(attempt: number): number {
    const base = this.opts.backoffMs ?? 250;
    return Math.round(base * 2 ** attempt * (0.8 + Math.random() * 0.4));
  }

  private retryAfter(header: string | string[] | undefined): number | undefined {
    const v = Array.isArray(header) ? header[0] : header;
    if (v === undefined) return undefined;
    const s = Number(v);
    if (Number.isFinite(s) && s >= 0) return Math.min(s, MAX_RETRY_AFTER_S) * 1000;
    const when = Date.parse(v);
    if (Number.isFinite(when)) return Math.min(Math.max(0, when - Date.now()), MAX_RETRY_AFTER_S * 1000);
    return undefined;
  }

  private networkError(err: unknown, code: string | undefined): UtrigError {
    const host = new URL(this.baseUrl).host;
    const what =
      code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
        ? `timed out talking to ${host}`
        : `could not reach ${host}${code ? ` (${code})` : ''}`;
    return new NetworkError(what, {
      cause: err,
      hint: 'check the network, or raise --timeout; UTRIG_API_URL and TWILIO_REGION/TWILIO_EDGE choose the host',
    });
  }

  private httpError(res: Attempt): UtrigError {
    let code: number | undefined;
    let message = `HTTP ${res.status}`;
    let moreInfo: string | undefined;
    try {
      const j = JSON.parse(res.text) as { code?: unknown; message?: unknown; more_info?: unknown };
      if (typeof j.code === 'number') code = j.code;
      if (typeof j.message === 'string') message = j.message;
      if (typeof j.more_info === 'string') moreInfo = j.more_info;
    } catch {
      // not Twilio's error JSON: keep the status line
    }
    const label = code !== undefined ? `${message} (Twilio ${code}, HTTP ${res.status})` : `${message} (HTTP ${res.status})`;
    if (res.status === 401 || res.status === 403) {
      return new AuthError(label, {
        status: res.status,
        ...(code !== undefined ? { code } : {}),
        hint: 'check the credentials: run `utrig login`, or set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN',
      });
    }
    if (res.status === 404) return new NotFoundError(label, code !== undefined ? { code } : {});
    return new ApiError(label, { status: res.status, code, moreInfo, hint: moreInfo ? `see ${moreInfo}` : undefined });
  }
}
