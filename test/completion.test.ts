import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateAll } from '../src/gen-completions.js';
import { startEmulator } from '../src/emulator/server.js';
import { harness, ROOT, runProcess, type Harness } from './helpers.js';
import { have, shq, Tmux, waitFor, wrapperDir } from './tty-helpers.js';

const BASH_FILE = join(ROOT, 'completions', 'utrig.bash');
const ZSH_DIR = join(ROOT, 'completions');
const FISH_FILE = join(ROOT, 'completions', 'utrig.fish');

interface Case {
  line: string;
  check: (got: string[], sids: string[]) => void;
}

const CASES: Case[] = [
  { line: 'utrig cr', check: (got) => assert.deepEqual(got, ['create']) },
  { line: 'utrig create --cat', check: (got) => assert.deepEqual(got, ['--category']) },
  {
    line: 'utrig create --category sms-o',
    check: (got) => {
      assert.ok(got.includes('sms-outbound') && got.includes('sms-outbound-longcode'), got.join(' '));
      assert.ok(got.every((c) => c.startsWith('sms-o')), got.join(' '));
    },
  },
  { line: 'utrig create --recurring ', check: (got) => assert.deepEqual([...got].sort(), ['alltime', 'daily', 'monthly', 'yearly']) },
  { line: 'utrig get ', check: (got, sids) => assert.deepEqual([...got].sort(), [...sids].sort()) },
  { line: 'utrig --output js', check: (got) => assert.deepEqual(got, ['json']) },
  { line: 'utrig completion ', check: (got) => assert.deepEqual([...got].sort(), ['bash', 'fish', 'zsh']) },
];


function lines(s: string): string[] {
  return s.split('\n').filter((l) => l !== '');
}

describe('completion scripts', () => {
  it('the checked-in scripts match the generator (npm run gen:completions)', async () => {
    for (const [rel, text] of Object.entries(await generateAll())) {
      const checkedIn = readFileSync(join(ROOT, rel), 'utf8');
      assert.ok(checkedIn === text, `${rel} differs from the generator's output: run npm run gen:completions and commit the result`);
    }
  });

  it('`utrig completion <shell>` prints the same script as the checked-in file', async () => {
    for (const [shell, rel] of [['bash', 'completions/utrig.bash'], ['zsh', 'completions/_utrig'], ['fish', 'completions/utrig.fish']] as const) {
      const res = await runProcess(process.execPath, [join(ROOT, 'bin', 'utrig'), 'completion', shell], { env: { PATH: process.env.PATH ?? '' } });
      assert.equal(res.code, 0, res.stderr);
      assert.ok(res.stdout === readFileSync(join(ROOT, rel), 'utf8'), `utrig completion ${shell} differs from ${rel}`);
    }
  });
});

describe('completion in real shells', () => {
  let h: Harness;
  let sids: string[];
  let env: Record<string, string>;
  before(async () => {
    h = await harness();
    sids = [];
    for (const c of ['sms', 'calls', 'totalprice']) sids.push(String((await h.create({ UsageCategory: c, TriggerValue: '10', CallbackUrl: 'https://example.com/h' })).sid));
    env = { ...h.env, PATH: `${wrapperDir()}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1' };
  });
  after(() => h.close());

  it('bash', { skip: !have('bash') && 'bash is not installed' }, async () => {
    const harnessScript = `source ${shq(BASH_FILE)}
line=$1
read -ra COMP_WORDS <<< "$line"
[[ $line == *' ' ]] && COMP_WORDS+=('')
COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
COMP_LINE=$line
COMP_POINT=\${#line}
_utrig utrig "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\\n' "\${COMPREPLY[@]}"
`;
    for (const c of CASES) {
      const res = await runProcess('bash', ['--norc', '--noprofile', '-c', harnessScript, 'bash', c.line], { env });
      assert.equal(res.code, 0, res.stderr);
      c.check(lines(res.stdout), sids);
    }
  });

  it('fish', { skip: !have('fish') && 'fish is not installed' }, async () => {
    for (const c of CASES) {
      const res = await runProcess('fish', ['--no-config', '-c', `source ${shq(FISH_FILE)}; complete -C ${shq(c.line)}`], { env });
      assert.equal(res.code, 0, res.stderr);
      c.check(lines(res.stdout).map((l) => l.split('\t')[0]!), sids);
    }
  });

  it('zsh (interactive, in a terminal)', { skip: (!have('zsh') || !have('tmux')) && 'zsh or tmux is not installed' }, async () => {
    // compinit loads _utrig from fpath as a user's setup would; compadd is wrapped to record the candidates it is given.
    const dir = mkdtempSync(join(tmpdir(), 'utrig-zsh-'));
    const cap = join(dir, 'candidates');
    writeFileSync(
      join(dir, '.zshrc'),
      `fpath=(${shq(ZSH_DIR)} $fpath)
autoload -Uz compinit && compinit -u -d ${shq(join(dir, '.zcompdump'))}
PS1='ready%% '
compadd() {
  if (( \${@[(I)-[OAD]*]} )); then builtin compadd "$@"; return; fi
  local -a __hits
  builtin compadd -A __hits "$@"
  (( \${#__hits} )) && print -rl -- $__hits >> ${shq(cap)}
  builtin compadd "$@"
}
`,
    );
    const t = new Tmux();
    t.start('exec zsh -i', { ...env, ZDOTDIR: dir, TERM: 'xterm' }, 150, 40);
    try {
      await t.waitScreen('ready%');
      for (const c of CASES) {
        rmSync(cap, { force: true });
        t.type(c.line);
        t.keys('Tab');
        // The candidates are written once per compadd call; wait until the file stops growing.
        let last = '';
        const got = await waitFor(
          `zsh candidates for "${c.line}"`,
          () => {
            const now = existsSync(cap) ? readFileSync(cap, 'utf8') : '';
            const stable = now !== '' && now === last;
            last = now;
            return stable ? now : undefined;
          },
          10_000,
          () => t.screen(),
        );
        c.check([...new Set(lines(got))], sids);
        t.keys('C-u');
        t.keys('C-c');
        await t.waitScreen(/ready% $/m);
      }
    } finally {
      t.kill();
    }
  });

  it('__complete sids prints nothing and exits 0 when offline or unauthenticated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'utrig-cfg-'));
    const bin = join(ROOT, 'bin', 'utrig');
    const offline = await runProcess(process.execPath, [bin, '__complete', 'sids'], { env: { ...env, UTRIG_API_URL: 'http://127.0.0.1:9', UTRIG_CONFIG_DIR: dir } });
    assert.deepEqual([offline.code, offline.stdout], [0, '']);
    const noAuth = await runProcess(process.execPath, [bin, '__complete', 'sids'], { env: { PATH: env.PATH!, UTRIG_API_URL: h.emu.url, UTRIG_CONFIG_DIR: dir } });
    assert.deepEqual([noAuth.code, noAuth.stdout], [0, '']);
    const wrong = await runProcess(process.execPath, [bin, '__complete', 'sids'], { env: { ...env, TWILIO_AUTH_TOKEN: 'x'.repeat(32), UTRIG_CONFIG_DIR: dir } });
    assert.deepEqual([wrong.code, wrong.stdout, wrong.stderr], [0, '', '']);
  });

  it('__complete sids gives up quietly after its 2 s deadline when the API hangs', async () => {
    const slow = await startEmulator({ port: 0, latencyMs: 15_000 });
    try {
      const e = { PATH: env.PATH!, UTRIG_API_URL: slow.url, TWILIO_ACCOUNT_SID: slow.accountSid, TWILIO_AUTH_TOKEN: slow.authToken, UTRIG_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'utrig-cfg-')) };
      const started = Date.now();
      const res = await runProcess(process.execPath, [join(ROOT, 'bin', 'utrig'), '__complete', 'sids'], { env: e, timeoutMs: 12_000 });
      assert.deepEqual([res.code, res.stdout, res.stderr], [0, '', '']);
      assert.ok(Date.now() - started < 6000, `took ${Date.now() - started} ms`);
      assert.equal(slow.requests.length, 1, 'one request, no retries');
    } finally {
      await slow.close();
    }
  });

  it('__complete sids answers from a 30-second cache', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'utrig-cfg-'));
    const bin = join(ROOT, 'bin', 'utrig');
    const e = { ...env, UTRIG_CONFIG_DIR: dir };
    const first = await runProcess(process.execPath, [bin, '__complete', 'sids'], { env: e });
    assert.deepEqual(lines(first.stdout).sort(), [...sids].sort());
    const n = h.emu.requests.length;
    const second = await runProcess(process.execPath, [bin, '__complete', 'sids'], { env: e });
    assert.equal(second.stdout, first.stdout);
    assert.equal(h.emu.requests.length, n, 'the second call was answered from the cache');
  });
});
