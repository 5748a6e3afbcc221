import { escapeControls } from '../output/escape.js';
import type { Delivery } from './control-routes.js';
import type { RequestLogEntry } from './http.js';

// The lines `utrig emulator` prints per request and per callback attempt. Paths, queries, URLs and
// network errors come from requests and the network, so their controls are made visible: a
// request must not be able to clear the screen or forge a log line.

/** The path as the server decoded it, and the query's names and values decoded. */
function describeRequest(path: string, query: Record<string, string>): string {
  let shown: string;
  try {
    shown = decodeURIComponent(path);
  } catch {
    shown = path;
  }
  const q = Object.entries(query).map(([k, v]) => `${k}=${v}`);
  return q.length > 0 ? `${shown}?${q.join('&')}` : shown;
}

/** `GET /2010-04-01/...?Category=sms 200`, one request's log line (without the newline). */
export function requestLine(r: RequestLogEntry): string {
  return `${r.method} ${escapeControls(describeRequest(r.path, r.query))} ${r.status === 0 ? 'dropped' : r.status}`;
}

/** One callback attempt's log line (without the newline). */
export function deliveryLine(d: Delivery): string {
  return `callback attempt ${d.attempt} → ${d.method} ${escapeControls(d.url)} ${d.status ?? escapeControls(d.error ?? 'failed')} (${d.trigger_sid})`;
}
