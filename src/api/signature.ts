import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Parameter map as Twilio signs it: a name may carry several values (they are sorted too). */
export type SignatureParams = Record<string, string | readonly string[]>;

/** Computes Twilio's X-Twilio-Signature: base64 HMAC-SHA1 over the URL plus each POST param name+value sorted by name. */
export function computeSignature(authToken: string, url: string, params: SignatureParams = {}): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    const values = typeof value === 'string' ? [value] : [...(value ?? [])].sort();
    for (const v of values) data += name + v;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

/** Hex SHA-256 of a raw body, as Twilio puts it in the bodySHA256 query parameter for JSON bodies. */
export function computeBodyHash(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  // timingSafeEqual needs equal lengths; comparing against itself keeps the time independent of the mismatch
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

const DEFAULT_PORTS: Record<string, string> = { 'https:': '443', 'http:': '80' };

// Twilio may sign with or without the default port depending on how the URL was configured,
// so (like twilio-node) a signature is accepted for the URL as given, with the port and without it.
function urlVariants(url: string): string[] {
  const out = [url];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return out;
  }
  const defaultPort = DEFAULT_PORTS[parsed.protocol];
  if (defaultPort === undefined) return out;
  const authority = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/i.exec(url);
  if (!authority) return out;
  const [, scheme, hostPart, rest] = authority as unknown as [string, string, string, string];
  const portMatch = /^(.*?)(:(\d+))?$/.exec(hostPart);
  const host = portMatch?.[1] ?? hostPart;
  const port = portMatch?.[3];
  if (port === undefined) out.push(`${scheme}${host}:${defaultPort}${rest}`);
  else if (port === defaultPort) out.push(`${scheme}${host}${rest}`);
  return out;
}

/**
 * Checks an X-Twilio-Signature. `body` is either the POST params or the raw body: a raw body is
 * matched against the URL's bodySHA256 parameter when present (signature over the URL alone),
 * otherwise it is parsed as a form.
 */
export function validateSignature(authToken: string, signature: string, url: string, body: SignatureParams | string = {}): boolean {
  let params: SignatureParams = {};
  if (typeof body === 'string') {
    let bodyHash: string | null = null;
    try {
      bodyHash = new URL(url).searchParams.get('bodySHA256');
    } catch {
      bodyHash = null;
    }
    if (bodyHash !== null) {
      if (!safeEqual(computeBodyHash(body), bodyHash.toLowerCase())) return false;
      params = {};
    } else {
      params = formToParams(body);
    }
  } else {
    params = body;
  }
  let ok = false;
  for (const candidate of urlVariants(url)) {
    if (safeEqual(computeSignature(authToken, candidate, params), signature)) ok = true;
  }
  return ok;
}

function formToParams(body: string): SignatureParams {
  const out: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(body)) (out[k] ??= []).push(v);
  return out;
}

/** A received request, as far as its signature is concerned. */
export interface ReceivedRequest {
  /** The URL Twilio signed (scheme, host, path and query). */
  url: string;
  method: string;
  contentType: string | undefined;
  /** The raw body ('' when none). */
  body: string;
}

/** Whether a request is a form post: its params are signed one by one. */
export function isFormRequest(method: string, contentType: string | undefined): boolean {
  return method.toUpperCase() !== 'GET' && (contentType ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
}

/**
 * Checks a request's X-Twilio-Signature the way Twilio's own validators do, and refuses a body the
 * signature does not cover. A form body is signed param by param; any other body only through the
 * URL's bodySHA256 parameter. Without that parameter such a body is refused: otherwise a signature
 * captured from a GET callback (the URL alone) would vouch for any body an attacker posts with it.
 * Returns null when the signature holds, else why not.
 */
export function checkRequestSignature(authToken: string, signature: string, req: ReceivedRequest): string | null {
  let hasBodyHash = false;
  try {
    hasBodyHash = new URL(req.url).searchParams.has('bodySHA256');
  } catch {
    hasBodyHash = false;
  }
  let body: SignatureParams | string = {};
  if (hasBodyHash) body = req.body;
  else if (isFormRequest(req.method, req.contentType)) body = req.body;
  else if (req.body.length > 0) {
    return 'the signature does not cover the body: a body that is not a form needs a bodySHA256 query parameter';
  }
  if (validateSignature(authToken, signature, req.url, body)) return null;
  return `X-Twilio-Signature does not match the signature of ${req.url} and the parameters`;
}
