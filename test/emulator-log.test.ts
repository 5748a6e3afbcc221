import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnEmulator, type EmulatorProcess } from './persistence-helpers.js';

/** Waits (bounded) until the process's stdout has a line matching `re`; returns that line. */
async function lineMatching(em: EmulatorProcess, re: RegExp): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const line = em.output().stdout.split('\n').find((l) => re.test(l));
    if (line !== undefined) return line;
    if (Date.now() > deadline) throw new Error(`no line matching ${re} in:\n${em.output().stdout}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('utrig emulator logs request paths and queries with control characters made visible', async () => {
  const em = await spawnEmulator(null);
  try {
    const auth = 'Basic ' + Buffer.from(`${em.accountSid}:${em.authToken}`).toString('base64');
    // ESC [2J clears a screen, CR LF would forge a log line: sent percent-encoded, decoded for the log
    const query = 'Category=%1B%5B2J%0D%0AGET%20%2Fforged%20200&FriendlyName=%1B%5D0%3Btitle%07';
    const r1 = await fetch(`${em.url}/2010-04-01/Accounts/${em.accountSid}/Usage/Records.json?${query}`, { headers: { authorization: auth } });
    await r1.text();
    const r2 = await fetch(`${em.url}/2010-04-01/Accounts/${em.accountSid}/%1B%5B31mred%0D%0A.json`, { headers: { authorization: auth } });
    await r2.text();
    assert.equal(r2.status, 404);
    const recordsLine = await lineMatching(em, /Usage\/Records\.json/);
    assert.equal(
      recordsLine,
      `GET /2010-04-01/Accounts/${em.accountSid}/Usage/Records.json?Category=\\u001b[2J\\r\\nGET /forged 200&FriendlyName=\\u001b]0;title\\u0007 400`,
    );
    const pathLine = await lineMatching(em, /red/);
    assert.equal(pathLine, `GET /2010-04-01/Accounts/${em.accountSid}/\\u001b[31mred\\r\\n.json 404`);
    const out = em.output().stdout;
    assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f\u007f]/, 'no raw control character reaches the terminal');
    assert.ok(!out.split('\n').some((l) => l.startsWith('GET /forged')), 'no forged line');
  } finally {
    await em.stop();
  }
});
