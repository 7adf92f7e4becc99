import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { REDACTION_KINDS, redactSecrets } from '../../engine/src/redact';

const dir = path.join(__dirname, '../fixtures/secrets');

/** Corpus entries: one per line, or a block between ">>>" and "<<<" lines; "%%" lines and blank lines are skipped. */
function entries(file: string): { line: number; text: string }[] {
  const lines = fs.readFileSync(path.join(dir, file), 'utf8').split('\n');
  const out: { line: number; text: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l === '' || l.startsWith('%%')) continue;
    if (l === '>>>') {
      const start = i + 1;
      const block: string[] = [];
      while (lines[++i] !== '<<<') {
        assert.ok(i < lines.length, `${file}:${start}: unterminated block`);
        block.push(lines[i]!);
      }
      out.push({ line: start, text: block.join('\n') });
    } else out.push({ line: i + 1, text: l });
  }
  return out;
}

const MARKED = /⟦([a-z_]+):([^⟧]+)⟧/g;

/** A secrets entry: the input (markers removed), the expected output and the secrets it holds. */
function parseSecret(marked: string) {
  const secrets: { kind: string; value: string }[] = [];
  const input = marked.replace(MARKED, (_m, _k: string, v: string) => v);
  const expected = marked.replace(MARKED, (_m, k: string, v: string) => {
    secrets.push({ kind: k, value: v });
    return `«redacted:${k}»`;
  });
  return { input, expected, secrets };
}

const secretEntries = entries('secrets.txt');
const lookalikes = entries('lookalikes.txt');

test('the corpora are large enough', () => {
  assert.ok(secretEntries.length >= 40, `${secretEntries.length} secret entries`);
  assert.ok(lookalikes.length >= 40, `${lookalikes.length} look-alikes`);
  for (const e of secretEntries) assert.ok(parseSecret(e.text).secrets.length > 0, `secrets.txt:${e.line} has no ⟦kind:secret⟧ marker`);
});

test('every secret in the corpus is redacted, and only its sensitive part', () => {
  const failures: string[] = [];
  const kindsSeen = new Set<string>();
  for (const e of secretEntries) {
    const { input, expected, secrets } = parseSecret(e.text);
    const r = redactSecrets(input);
    if (r.text === input) failures.push(`secrets.txt:${e.line}: unchanged: ${input}`);
    else if (r.text !== expected) failures.push(`secrets.txt:${e.line}:\n  got      ${r.text}\n  expected ${expected}`);
    for (const s of secrets) {
      if (r.text.includes(s.value)) failures.push(`secrets.txt:${e.line}: secret survives: ${s.value}`);
      kindsSeen.add(s.kind);
      if (!r.kinds.includes(s.kind)) failures.push(`secrets.txt:${e.line}: kind ${s.kind} not reported (${r.kinds.join(',')})`);
    }
    if (r.count !== secrets.length) failures.push(`secrets.txt:${e.line}: count ${r.count}, expected ${secrets.length}`);
  }
  assert.deepEqual(failures, []);
  for (const k of kindsSeen) assert.ok((REDACTION_KINDS as readonly string[]).includes(k), `unknown kind ${k}`);
});

test('every look-alike survives byte for byte', () => {
  const failures: string[] = [];
  for (const e of lookalikes) {
    const r = redactSecrets(e.text);
    if (r.text !== e.text || r.count !== 0) failures.push(`lookalikes.txt:${e.line}:\n  in  ${e.text}\n  out ${r.text}`);
  }
  assert.deepEqual(failures, []);
});

test('the whole corpora, as files, redact the same as line by line', () => {
  // Partial keys (a prefix ending in a key, a suffix starting in one) only make sense alone.
  const whole = secretEntries.filter((e) => e.text.includes('-----BEGIN') === e.text.includes('-----END'));
  const secretsInput = whole.map((e) => parseSecret(e.text).input).join('\n');
  const secretsExpected = whole.map((e) => parseSecret(e.text).expected).join('\n');
  assert.equal(redactSecrets(secretsInput).text, secretsExpected);
  const looks = lookalikes.map((e) => e.text).join('\n');
  assert.equal(redactSecrets(looks).text, looks);
});

test('redaction is idempotent', () => {
  for (const e of [...secretEntries, ...lookalikes]) {
    const once = redactSecrets(parseSecret(e.text).input);
    const twice = redactSecrets(once.text);
    assert.equal(twice.text, once.text, `line ${e.line}`);
    assert.equal(twice.count, 0, `line ${e.line}`);
  }
});

test('the surrounding code is kept intact', () => {
  assert.equal(redactSecrets('password = "hunter2!"').text, 'password = "«redacted:password»"');
  assert.equal(redactSecrets("x = 1\nDB_PASSWORD=letmein\ny = 2\n").text, 'x = 1\nDB_PASSWORD=«redacted:password»\ny = 2\n');
  assert.equal(
    redactSecrets('postgres://app:Zx9vQ2pL7m@db:5432/app').text,
    'postgres://app:«redacted:url_password»@db:5432/app',
  );
  const r = redactSecrets('a = "AKIAUJZDE8GXD6NCF10E"; b = "AKIAUJZDE8GXD6NCF10F"');
  assert.equal(r.count, 2);
  assert.deepEqual(r.kinds, ['aws_access_key_id']);
  assert.deepEqual(redactSecrets(''), { text: '', count: 0, kinds: [] });
});

test('a prefix that ends inside a private key, and a suffix that starts inside one, lose the key material', () => {
  const body = 'YlVvsSKuvinX+zMqf9OgXluCZz8xBfZuXTptFyfePpX6N1NF2XV54wca+7E56w8Z\nniqT3Ul4ffqkOkgWrdioyq';
  const prefix = `KEY = """-----BEGIN RSA PRIVATE KEY-----\n${body}`;
  assert.equal(redactSecrets(prefix).text, 'KEY = """-----BEGIN RSA PRIVATE KEY-----\n«redacted:private_key»');
  const suffix = `${body}\n-----END RSA PRIVATE KEY-----\n"""\nprint(KEY)\n`;
  assert.equal(redactSecrets(suffix).text, '«redacted:private_key»\n-----END RSA PRIVATE KEY-----\n"""\nprint(KEY)\n');
});

test('pathological inputs stay linear', () => {
  const inputs = [
    'a'.repeat(100_000),
    'password = "' + 'x'.repeat(50_000),
    'https://' + 'u'.repeat(50_000) + ':' + 'p'.repeat(50_000),
    '-----BEGIN PRIVATE KEY-----' + ' '.repeat(50_000) + 'x',
    'eyJ' + 'a'.repeat(50_000) + '.eyJ' + 'b'.repeat(50_000),
    'token' + ' '.repeat(50_000) + '=',
    'Bearer ' + 'A1'.repeat(50_000),
    'sk-' + 'a1'.repeat(50_000) + '-',
    ('DB_PASSWORD=' + 'z'.repeat(100) + '\n').repeat(1000),
    // values that reach the placeholder tests
    ('password = "' + 'aB'.repeat(40) + '!"\n').repeat(200),
    ('password = "' + 'a_'.repeat(40) + '!"\n').repeat(200),
    ('token: ' + 'Ab1 '.repeat(40) + '\n').repeat(200),
    ('x = "https://u:' + 'p'.repeat(60) + '@h"\n').repeat(200),
    // a suffix that looks like it starts inside a key but has no END line
    ('Proc-Type: 4,ENCRYPTED aaaa, bbbb, cccc\n').repeat(30) + 'AAAA',
    'MIIE' + 'A'.repeat(50_000) + '\n-----END',
  ];
  for (const s of inputs) {
    const t0 = performance.now();
    redactSecrets(s);
    const ms = performance.now() - t0;
    assert.ok(ms < 5000, `${ms.toFixed(0)} ms on ${JSON.stringify(s.slice(0, 30))}…`);
  }
});

test('throughput (logged, not asserted)', (t) => {
  // Realistic source text: this repository's engine and server sources (not redact.ts, whose
  // comments and patterns are full of secret words).
  const src = (d: string) =>
    fs
      .readdirSync(path.join(__dirname, '../..', d))
      .filter((f) => f.endsWith('.ts') && f !== 'redact.ts')
      .map((f) => fs.readFileSync(path.join(__dirname, '../..', d, f), 'utf8'));
  const base = [...src('engine/src'), ...src('server/src')].join('\n');
  const make = (size: number) => {
    let s = '';
    while (s.length < size) s += base;
    s = s.slice(0, size);
    return s;
  };
  for (const size of [8 * 1024, 100 * 1024]) {
    const text = make(size);
    for (let i = 0; i < 20; i++) redactSecrets(text); // warm up
    const runs = size > 10_000 ? 50 : 500;
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) redactSecrets(text);
    const ms = (performance.now() - t0) / runs;
    t.diagnostic(`redactSecrets: ${ms.toFixed(3)} ms per ${size / 1024} KB of source`);
  }
  const secretsText = secretEntries.map((e) => parseSecret(e.text).input).join('\n');
  let dense = '';
  while (dense.length < 8 * 1024) dense += secretsText + '\n';
  dense = dense.slice(0, 8 * 1024);
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) redactSecrets(dense);
  t.diagnostic(`redactSecrets: ${((performance.now() - t0) / 200).toFixed(3)} ms per 8 KB of secret-dense text`);
});
