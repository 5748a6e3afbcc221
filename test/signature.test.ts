import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRequestSignature, computeBodyHash, computeSignature, validateSignature } from '../src/api/signature.js';

const TOKEN = '12345';
const URL_ = 'https://example.com/myapp.php?foo=1&bar=2';
const PARAMS: Record<string, string> = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+14158675310',
  Digits: '1234',
  From: '+14158675310',
  To: '+18005551212',
};
const EXPECTED = 'L/OH5YylLD5NRKLltdqwSvS0BnU=';

function tweak(s: string): string {
  const last = s.charCodeAt(s.length - 1);
  return s.slice(0, -1) + String.fromCharCode(last === 0x30 ? 0x31 : last - 1);
}

test("computeSignature reproduces Twilio's documented example", () => {
  assert.equal(computeSignature(TOKEN, URL_, PARAMS), EXPECTED);
  assert.equal(validateSignature(TOKEN, EXPECTED, URL_, PARAMS), true);
});

test('a one-character change to the token, the URL or any param changes the signature', () => {
  assert.notEqual(computeSignature(tweak(TOKEN), URL_, PARAMS), EXPECTED);
  assert.notEqual(computeSignature(TOKEN, tweak(URL_), PARAMS), EXPECTED);
  for (const name of Object.keys(PARAMS)) {
    const changed = { ...PARAMS, [name]: tweak(PARAMS[name] as string) };
    assert.notEqual(computeSignature(TOKEN, URL_, changed), EXPECTED, `value of ${name}`);
    const renamed: Record<string, string> = { ...PARAMS };
    delete renamed[name];
    renamed[tweak(name)] = PARAMS[name] as string;
    assert.notEqual(computeSignature(TOKEN, URL_, renamed), EXPECTED, `name of ${name}`);
    assert.equal(validateSignature(TOKEN, EXPECTED, URL_, changed), false);
  }
  assert.equal(validateSignature(TOKEN, tweak(EXPECTED), URL_, PARAMS), false);
});

test('validateSignature accepts a raw form body and tolerates the default port', () => {
  const body = new URLSearchParams(PARAMS).toString();
  assert.equal(validateSignature(TOKEN, EXPECTED, URL_, body), true);
  assert.equal(validateSignature(TOKEN, EXPECTED, 'https://example.com:443/myapp.php?foo=1&bar=2', PARAMS), true);
  const signedWithPort = computeSignature(TOKEN, 'https://example.com:443/myapp.php?foo=1&bar=2', PARAMS);
  assert.equal(validateSignature(TOKEN, signedWithPort, URL_, PARAMS), true);
  assert.equal(validateSignature(TOKEN, EXPECTED, 'https://example.com:8443/myapp.php?foo=1&bar=2', PARAMS), false);
});

test('validateSignature supports the bodySHA256 variant for JSON bodies', () => {
  const json = '{"property":"value","boolean":true}';
  const url = `https://example.com/myapp?bodySHA256=${computeBodyHash(json)}`;
  const sig = computeSignature(TOKEN, url);
  assert.equal(validateSignature(TOKEN, sig, url, json), true);
  assert.equal(validateSignature(TOKEN, sig, url, json.replace('true', 'false')), false);
});

test('checkRequestSignature refuses a body the signature does not cover, as Twilio validators do', () => {
  const getSig = computeSignature(TOKEN, URL_);
  const req = (method: string, contentType: string | undefined, body: string) => ({ url: URL_, method, contentType, body });
  // a GET callback's signature (the URL alone) holds for the GET and for an empty POST
  assert.equal(checkRequestSignature(TOKEN, getSig, req('GET', undefined, '')), null);
  assert.equal(checkRequestSignature(TOKEN, getSig, req('POST', 'application/json', '')), null);
  // but vouches for no body it did not sign
  for (const [ct, body] of [
    ['application/json', '{"UsageTriggerSid":"UTevil"}'],
    ['text/plain', 'x'],
    [undefined, 'x'],
  ] as const) {
    assert.match(checkRequestSignature(TOKEN, getSig, req('POST', ct, body)) ?? '', /^the signature does not cover the body/, `${ct}`);
  }
  assert.match(checkRequestSignature(TOKEN, getSig, req('GET', 'application/json', '{"a":1}')) ?? '', /does not cover the body/);
  // a form body is signed param by param; a JSON body through bodySHA256
  assert.equal(checkRequestSignature(TOKEN, EXPECTED, req('POST', 'application/x-www-form-urlencoded; charset=utf-8', new URLSearchParams(PARAMS).toString())), null);
  assert.match(checkRequestSignature(TOKEN, getSig, req('POST', 'application/x-www-form-urlencoded', 'Digits=1')) ?? '', /does not match/);
  const json = '{"a":1}';
  const url = `https://example.com/hook?bodySHA256=${computeBodyHash(json)}`;
  const sig = computeSignature(TOKEN, url);
  assert.equal(checkRequestSignature(TOKEN, sig, { url, method: 'POST', contentType: 'application/json', body: json }), null);
  assert.match(checkRequestSignature(TOKEN, sig, { url, method: 'POST', contentType: 'application/json', body: '{"a":2}' }) ?? '', /does not match/);
});
