import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { errorBody, type Reply } from './http.js';

/** The host names and addresses a request may name in `Host`, beyond loopback ones. */
export function servedHosts(boundHost: string, extra: readonly string[] = []): Set<string> {
  const names = new Set<string>(extra.map(normalHost));
  const bound = normalHost(boundHost);
  names.add(bound);
  if (bound === '0.0.0.0' || bound === '::' || bound === '') {
    // listening everywhere: every address of this machine, and its own name, reach the emulator
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(normalHost(a.address));
    names.add(normalHost(hostname()));
  }
  return names;
}

function normalHost(h: string): string {
  return h.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/** Splits a Host header into name and port (`[::1]:4010`, `localhost`, `127.0.0.1:80`). */
function splitHost(header: string): { name: string; port: string } {
  const m = /^\[([^\]]*)\](?::(\d*))?$/.exec(header) ?? /^([^:]*)(?::(\d*))?$/.exec(header);
  if (!m) return { name: normalHost(header), port: '' };
  return { name: normalHost(m[1] as string), port: m[2] ?? '' };
}

function isLoopbackName(name: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  return name === '::1' || /^::ffff:127\./.test(name);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Guards against DNS rebinding and cross-site requests, as dev servers do: the `Host` must name
 * an address the emulator serves, and a write from a browser must come from the emulator's own
 * origin. Returns the 403 to answer, or null when the request may go on.
 */
export function checkOrigin(req: IncomingMessage, method: string, served: ReadonlySet<string>, port: number): Reply | null {
  const served1 = (name: string): boolean => isLoopbackName(name) || served.has(name);
  const host = req.headers.host;
  // HTTP/1.0 clients may leave Host out; a browser always sends it
  if (host !== undefined && !served1(splitHost(host).name)) {
    return forbidden(
      `request refused: Host "${host}" is not an address this emulator serves; use 127.0.0.1:${port} or localhost:${port} (the Host check stops DNS rebinding)`,
    );
  }
  if (SAFE_METHODS.has(method)) return null;
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site') {
    return forbidden('cross-site write refused: a page on another site may not change the emulator (Sec-Fetch-Site: cross-site)');
  }
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  let own = false;
  try {
    const u = new URL(origin);
    own = u.protocol === 'http:' && served1(normalHost(u.hostname)) && Number(u.port || 80) === port;
  } catch {
    own = false;
  }
  if (own) return null;
  return forbidden(
    `cross-origin write refused: Origin "${origin}" is not this emulator (http://127.0.0.1:${port}); only the emulator's own pages and non-browser clients may change it`,
  );
}

function forbidden(message: string): Reply {
  return { status: 403, body: errorBody(403, 20403, message) };
}
