/** Secrets in API answers (an Account's auth_token, a new API key's secret), kept out of traces and errors. */

export const REDACTED = '[redacted]';

/** Field names whose values are credentials. Links (…_uri, …_url) and Twilio's non-secret tokens are left alone. */
const SECRET_KEY_RE = /token|secret|password|passwd|private_?key|credential/i;
const NOT_SECRET_KEY_RE = /(_uri|_url|^idempotency_?token|^page_?token)$/i;
/**
 * The same names written as `"name": "value"` or `name=value` anywhere in text (also inside a JSON string,
 * such as an error message). Starting only at a word's start keeps it linear on long unbroken input.
 */
const SECRET_PAIR_RE =
  /(?<![A-Za-z0-9_])("?)([A-Za-z0-9_]{0,64}?(?:token|secret|password|passwd|private_?key|credential)[A-Za-z0-9_]{0,64})\1(\s*[:=]\s*)("(?:[^"\\]|\\.)*"|[^\s,&;}"]+)/gi;
/** Shorter values are not scrubbed by value: they would blank out ordinary words. */
const MIN_KNOWN_SECRET = 8;

function isSecretKey(key: string): boolean {
  return SECRET_KEY_RE.test(key) && !NOT_SECRET_KEY_RE.test(key);
}

/**
 * Scrubs secrets from text: the values it has been told about, and every value of a secret-named field
 * it sees (which it then remembers, so an echo of the same value elsewhere is scrubbed too).
 */
export class Redactor {
  private readonly known = new Set<string>();

  /** Remembers a secret value so it is scrubbed wherever it appears. */
  add(secret: string | undefined): void {
    if (secret !== undefined && secret.length >= MIN_KNOWN_SECRET) this.known.add(secret);
  }

  /** Text with every known secret replaced. */
  scrub(text: string): string {
    let out = text;
    for (const s of this.known) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  }

  /** A response body or message: secret-named fields redacted (JSON or not), then every known secret scrubbed. */
  body(text: string): string {
    let out = text;
    if (text.startsWith('{') || text.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (this.redactTree(parsed)) out = JSON.stringify(parsed);
      } catch {
        // not JSON after all: the name=value pass below still applies
      }
    }
    out = out.replace(SECRET_PAIR_RE, (m, q: string, key: string, sep: string, value: string) => {
      if (!isSecretKey(key)) return m;
      const quoted = value.startsWith('"');
      const bare = quoted ? value.slice(1, -1) : value;
      if (bare === REDACTED) return m;
      this.add(bare);
      return `${q}${key}${q}${sep}${quoted ? `"${REDACTED}"` : REDACTED}`;
    });
    return this.scrub(out);
  }

  /** Replaces secret-named values in place; true when any was found. */
  private redactTree(node: unknown, depth = 0): boolean {
    if (depth > 32 || typeof node !== 'object' || node === null) return false;
    let found = false;
    if (Array.isArray(node)) {
      for (const item of node) found = this.redactTree(item, depth + 1) || found;
      return found;
    }
    const obj = node as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      const v = obj[key];
      if (isSecretKey(key) && (typeof v === 'string' || typeof v === 'number') && v !== '') {
        this.add(String(v));
        obj[key] = REDACTED;
        found = true;
      } else {
        found = this.redactTree(v, depth + 1) || found;
      }
    }
    return found;
  }
}
