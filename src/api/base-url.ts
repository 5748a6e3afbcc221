import { UsageError } from '../errors.js';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** True for hosts that never leave this machine. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * The API base URL: UTRIG_API_URL, else Twilio's regional/edge host from TWILIO_REGION and
 * TWILIO_EDGE (as Twilio's libraries build it), else https://api.twilio.com.
 */
export function resolveBaseUrl(env: NodeJS.ProcessEnv): string {
  const explicit = env.UTRIG_API_URL;
  if (explicit) {
    let u: URL;
    try {
      u = new URL(explicit);
    } catch {
      throw new UsageError(`UTRIG_API_URL is not a URL: expected for example https://api.twilio.com`);
    }
    if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) {
      throw new UsageError(
        `UTRIG_API_URL uses plain http for ${u.hostname}: http is accepted only for loopback addresses, use https`,
      );
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new UsageError(`UTRIG_API_URL must be an http(s) URL, got ${u.protocol}`);
    }
    return u.origin;
  }
  const region = env.TWILIO_REGION?.trim();
  const edge = env.TWILIO_EDGE?.trim();
  for (const [name, v] of [['TWILIO_REGION', region], ['TWILIO_EDGE', edge]] as const) {
    if (v && !/^[a-z0-9-]+$/.test(v)) throw new UsageError(`${name} must be a name such as us1 or ie1, got "${v}"`);
  }
  if (edge) return `https://api.${edge}.${region || 'us1'}.twilio.com`;
  if (region) return `https://api.${region}.twilio.com`;
  return 'https://api.twilio.com';
}

/** How much of a server-given link an error message quotes. */
const LINK_SHOWN_MAX = 200;

/** A link from a response, quoted for an error: JSON escapes make control characters visible, and it is cut short. */
export function quoteLink(link: string): string {
  const cut = link.length > LINK_SHOWN_MAX ? `${link.slice(0, LINK_SHOWN_MAX)}…` : link;
  return JSON.stringify(cut);
}

/**
 * Resolves a link the API gave (such as next_page_uri) against the base URL, or returns undefined when it
 * would leave the base URL's origin. Only a path ("/2010-04-01/…") or an absolute URL on the same origin
 * passes: a protocol-relative "//host/…", a relative "page2", a scheme change, or userinfo do not, so the
 * credentials sent with the request go nowhere else.
 */
export function resolveApiLink(baseUrl: string, link: string): URL | undefined {
  const base = new URL(baseUrl);
  const isPath = link.startsWith('/') && !link.startsWith('//') && !link.startsWith('/\\');
  const isAbsolute = /^https?:\/\//i.test(link);
  if (!isPath && !isAbsolute) return undefined;
  let u: URL;
  try {
    u = new URL(link, base.origin + '/');
  } catch {
    return undefined;
  }
  if (u.origin !== base.origin || u.username !== '' || u.password !== '') return undefined;
  return u;
}
