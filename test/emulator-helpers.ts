import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningEmulator } from '../src/emulator/server.js';

export interface Res {
  status: number;
  headers: Headers;
  // any on purpose: tests read deep into arbitrary API JSON and assert on it, a cast per access would only add noise
  json: any;
  text: string;
}

/** Real HTTP against the emulator (global fetch; nothing is mocked). */
export async function call(
  em: RunningEmulator,
  method: string,
  path: string,
  opts: { form?: Record<string, string>; auth?: [string, string] | null } = {},
): Promise<Res> {
  const headers: Record<string, string> = {};
  const auth = opts.auth === undefined ? [em.accountSid, em.authToken] : opts.auth;
  if (auth) headers.authorization = 'Basic ' + Buffer.from(`${auth[0]}:${auth[1]}`).toString('base64');
  let body: string | undefined;
  if (opts.form) {
    body = new URLSearchParams(opts.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const res = await fetch(em.url + path, { method, headers, body });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, json, text };
}

export function triggersPath(account: string): string {
  return `/2010-04-01/Accounts/${account}/Usage/Triggers.json`;
}

export async function control(em: RunningEmulator, method: string, path: string, form?: Record<string, string>): Promise<Res> {
  return call(em, method, path, { form, auth: null });
}

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real callback receiver; `statuses` are answered in turn (the last one repeats). */
export async function startReceiver(statuses: number[] = [200]): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = statuses[Math.min(received.length - 1, statuses.length - 1)] ?? 200;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
