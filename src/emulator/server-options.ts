import type { Delivery } from './control-routes.js';
import type { RequestLogEntry } from './http.js';
import type { Store } from './store.js';

export interface EmulatorStartOptions {
  port?: number;
  host?: string;
  /** persist state to this file (snapshot + journal, see journal.ts); absent = memory only */
  statePath?: string;
  /** wait this long for another process using statePath (default 0: fail at once) */
  stateLockWaitMs?: number;
  /** told at once when a state write fails (the request also fails with 500) */
  onStateError?: (message: string) => void;
  accountSid?: string;
  authToken?: string;
  /** create N subaccounts of the main account at start (stable SIDs derived from the parent) */
  subaccounts?: number;
  /** initial virtual time; default real now (or the persisted clock) */
  now?: Date;
  /** delay between callback retries, default 200 */
  retryDelayMs?: number;
  /** timeout of one callback attempt, default 15000 */
  callbackTimeoutMs?: number;
  /** called for every callback attempt */
  onDelivery?: (d: Delivery) => void;
  /** latency added to every API request from the start (like POST /emulator/faults LatencyMs) */
  latencyMs?: number;
  /** called for every /2010-04-01 request once answered */
  onRequest?: (r: RequestLogEntry) => void;
  /** largest request body accepted; larger ones are answered 413 (default 64 KiB) */
  maxBodyBytes?: number;
  /** entries kept in `requests` and `deliveries`, the oldest dropped first (default 1000) */
  logEntries?: number;
  /** bytes of each request body kept in the log (default 4096) */
  logBodyBytes?: number;
  /**
   * most API requests in flight per account family (a main account and its subaccounts); more are
   * answered 429 with error 20429 and Retry-After, as Twilio answers too many concurrent requests.
   * Absent: no limit.
   */
  concurrencyLimit?: number;
  /** the Retry-After (seconds) of those 429s, default 1; 0 lets a test retry at once */
  concurrencyRetryAfter?: number;
  /** host names accepted in `Host` besides loopback ones and the bound address (a tunnel, a container name) */
  allowedHosts?: string[];
  /**
   * Twilio's timing: evaluate triggers every this many seconds of virtual time (as virtual time
   * passes: real time, or the clock being moved) instead of on every change. Absent: at once.
   */
  evaluateEverySeconds?: number;
  /** a main account's triggers count its subaccounts' usage too (Twilio does not say; default off) */
  parentTriggersCountSubaccounts?: boolean;
}

export interface RunningEmulator {
  url: string;
  accountSid: string;
  authToken: string;
  apiKeySid: string;
  apiKeySecret: string;
  subaccountSids: string[];
  /** the last `logEntries` API requests, oldest first */
  requests: RequestLogEntry[];
  /** the last `logEntries` callback attempts, oldest first */
  deliveries: Delivery[];
  /** the store behind the API, for in-process tests and benchmarks */
  store: Store;
  idle(): Promise<void>;
  close(): Promise<void>;
}
