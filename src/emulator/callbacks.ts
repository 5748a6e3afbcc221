import { buildCallbackParams, deliverCallback } from '../api/callback.js';
import type { Delivery } from './control-routes.js';
import type { FireEvent } from './store.js';

/** How firings become callbacks: retry timing, the virtual clock, and where attempts are reported. */
export interface CallbackSettings {
  retryDelayMs: number;
  timeoutMs: number;
  /** the virtual now, ISO 8601, for each attempt's log entry */
  now: () => string;
  /** told of every delivery in flight (the server waits for them in idle() and close()) */
  track: (p: Promise<unknown>) => void;
  /** told of every attempt */
  record: (d: Delivery) => void;
}

/** The store's onFire: each firing becomes a signed callback, retried after a 5xx, every attempt recorded. */
export function fireCallbacks(s: CallbackSettings): (e: FireEvent) => void {
  return (e) => {
    const params = buildCallbackParams(e.trigger, e.firedAt);
    const method = e.trigger.callback_method === 'GET' ? 'GET' : 'POST';
    const p = deliverCallback({
      url: e.trigger.callback_url,
      method,
      params,
      authToken: e.authToken,
      retryDelayMs: s.retryDelayMs,
      timeoutMs: s.timeoutMs,
      onAttempt: (a) =>
        s.record({
          trigger_sid: e.trigger.sid,
          account_sid: e.trigger.account_sid,
          url: e.trigger.callback_url,
          method,
          attempt: a.attempt,
          status: a.status,
          error: a.error,
          idempotency_token: params.IdempotencyToken ?? '',
          time: s.now(),
          params,
        }),
    }).catch(() => {});
    s.track(p);
  };
}
