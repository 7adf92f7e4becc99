/**
 * Secret redaction. Every text the engine stores (context prefix and suffix, every candidate)
 * goes through `redactSecrets` first. The sensitive part of each secret is replaced with
 * `«redacted:<kind>»` (kinds: REDACTION_KINDS); the code around it is kept byte for byte, so for
 * `password = "hunter2!"` only `hunter2!` is replaced and `password = "` and `"` survive.
 * Redaction is idempotent. False positives cost little (only the value goes, the code stays),
 * false negatives leak, so where the two conflict the rules lean towards redacting values and
 * away from touching code.
 *
 * Three passes, in this order:
 *
 * 1. Private keys: the body of a PEM block (`-----BEGIN [RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP ]
 *    PRIVATE KEY-----`), raw or inside a string with `\n` escapes; the BEGIN/END lines and
 *    `Proc-Type:`/`DEK-Info:` headers are kept. A body cut off by the end of a prefix (no END)
 *    or by the start of a suffix (no BEGIN) is redacted too.
 *
 * 2. Tokens known by their shape, wherever they are: AWS access key ids (AKIA/ASIA/ABIA/ACCA),
 *    GitHub (`ghp_` `gho_` `ghu_` `ghs_` `ghr_`, `github_pat_`), GitLab (`glpat-` …), Slack
 *    (`xox?-`, `xapp-`, the path of `hooks.slack.com/services/…`), Stripe (`sk_`/`rk_` live and
 *    test, `whsec_`), Anthropic (`sk-ant-`), OpenAI (`sk-proj-` …, legacy `sk-…`), Google (`AIza`,
 *    `GOCSPX-`, `ya29.`), npm (`npm_`), SendGrid (`SG.x.y`), Twilio (`SK` + 32 hex), JWTs
 *    (`eyJ….eyJ….sig`). These ignore the placeholder rule: the documented example key is
 *    redacted as well. Then secrets known by their context: the password of
 *    `scheme://user:password@host` and of `curl -u user:password`, Azure `AccountKey=`/
 *    `SharedAccessKey=`, `Authorization: Basic|Token|Digest …` and `Bearer …` (a bearer value
 *    needs a letter and a digit, so "Bearer authentication" is prose).
 *
 * 3. Values assigned to secret names. The name ends with one of `password`, `passwd`,
 *    `passphrase`, `pass`, `pwd`, `secret`, `token`, or `key` after api/access/secret/private/
 *    signing/encryption/master/auth/app/client (`api_key`, `apiKey`, `X-Api-Key`, `SECRET_KEY`),
 *    optionally followed by digits; any prefix (`DB_PASSWORD`, `dbPassword`, `client_secret`,
 *    `spring.datasource.password`; bare `pass`/`pwd` must start a word, so not `bypass`). So
 *    `tokenizer`, `token_count`, `passwordless`, `password_hash`, `max_tokens`, `keyboard` are
 *    not secret names. Operators: `=`, `:=`, `:`, `=>`, `==`/`===`/`!=`, `??=`, `||=`, with an
 *    optional type (`password: str = "…"`, `var password string = "…"`, `String API_KEY = "…"`),
 *    quoted keys (`"apiKey": "…"`, `headers['X-Api-Key'] = '…'`), a literal wrapper (`[]byte("…")`,
 *    `SecretStr("…")`, `String::from("…")`, `Buffer.from("…")`), the call form
 *    `setenv("API_KEY", "…")` (quoted name, and a value that does not read as another field
 *    name), and `<password>…</password>`.
 *    - Quoted values (one line; `"`, `'` or backtick) are redacted unless they are placeholders.
 *    - Unquoted values (env files, shell, YAML, .ini, .properties, query strings) are one run of
 *      non-space characters. With `:` or a spaced `=` the value must end the line (a comment may
 *      follow); `NAME=value` without spaces (env, shell, `--password=…`, `?api_key=…&`) may also be
 *      followed by a space, a quote, `&` or `;`. Code is kept: calls and indexing never match
 *      (`get_token()`, `os.environ["X"]`), nor do property paths (`config.secret`,
 *      `a?.b`), keywords and types (`None`, `str`, `CancellationToken`), numbers (`4096`,
 *      `0x0B96`) or bare identifiers, unless the identifier reads as a value: a letter and a digit
 *      and 6+ long (`hunter2`), 20+ long in mixed case without a lower-case run of 5 (random),
 *      an upper-case env assignment (`DB_PASSWORD=letmein`), or a `name=value` assignment whose
 *      value is neither snake_case nor camelCase. Known false negative: an all-letter unquoted
 *      value after a spaced operator (`password = letmein` in .ini, `password: letmein` in YAML)
 *      reads as a code reference.
 *    - A name that is just `token` needs a token-like value (12+ with a digit, or 20+ in mixed
 *      case), so lexer code (`if token == "return":`) survives.
 *
 * Placeholder rule (assignments, URL and header passwords; a placeholder is kept):
 *  - fewer than 4 characters; already redacted (`«redacted:`); elided (`...`, `…`: `"sk-..."`);
 *  - a template or reference: starts with `$` or `%`, contains both `{` and `}` (f-strings,
 *    `${VAR}`, `{{ vault }}`), or is wrapped in `<…>`, `[…]` or `(…)` (`<your-password>`);
 *  - no letter or digit at all, only mask characters (`***`, `xxx`, `XXXX`, `•••`, `___`), or one
 *    character repeated (`0000`);
 *  - prose: two or more words, capitalised or ending in `.:!?` or using a common word
 *    (`"Password must be at least 8 characters"`, `"Enter your token"`, `"invalid password"`);
 *    a lower-case passphrase of uncommon words (`correct horse battery staple`) is redacted;
 *  - a name rather than a value: an env variable name (`DB_PASSWORD`), letters only in several
 *    segments (`invalidUserNameOrPassword`, `msal.cache.encryption`, `_RSAPrivateKey`), a path
 *    (`/run/secrets/db`, `./key.pem`), a file name with a known extension (`token.json`), a URL
 *    or a version (`^10.2.2`);
 *  - lower-cased, without `-`, `_`, `.` and spaces, it splits entirely into placeholder words
 *    (PLACEHOLDER_WORDS: changeme, changeit, password, secret, token, api, key, your, my, here,
 *    test, dummy, mock, fake, example, sample, placeholder, redacted, none, null, string, foo,
 *    bar, admin, root, postgres, …): `changeme`, `YOUR_API_KEY`, `your-password-here`,
 *    `mysecretpassword` and `admin` are kept. Digits never split, so `password123`, `test123`,
 *    `hunter2!` and `letmein` are redacted.
 *
 * Speed: every pattern is compiled once; the token patterns run as one alternation, each
 * starting with its literal; the assignment pass starts from the operators (`=`, `:`, `,` after
 * a quote) and looks back for a secret name, then tries two sticky patterns there; no pattern
 * has ambiguous nested quantifiers, and a test feeds pathological inputs.
 */

export const REDACTION_KINDS = [
  'private_key',
  'aws_access_key_id',
  'aws_secret_access_key',
  'github_token',
  'gitlab_token',
  'slack_token',
  'slack_webhook',
  'stripe_key',
  'anthropic_key',
  'openai_key',
  'google_api_key',
  'npm_token',
  'sendgrid_key',
  'twilio_key',
  'jwt',
  'url_password',
  'azure_key',
  'bearer_token',
  'auth_header',
  'password',
  'secret',
  'token',
  'api_key',
] as const;

export type RedactionKind = (typeof REDACTION_KINDS)[number];

export interface Redaction {
  text: string;
  count: number;
  kinds: string[];
}

const MARK_PREFIX = '«redacted:';
const mark = (kind: RedactionKind) => `${MARK_PREFIX}${kind}»`;

interface State {
  count: number;
  kinds: Set<string>;
}

/** A transformation of the whole text; `lower` is the text lower-cased (same length). */
interface Rule {
  apply(text: string, lower: () => string, st: State): string;
}

const note = (st: State, kind: RedactionKind) => {
  st.count++;
  st.kinds.add(kind);
  return mark(kind);
};

/**
 * A token pattern: the whole match is secret or, when the pattern has the named groups `s` (and
 * `b`), the group `s` (with `b` the part kept before it). `accept` may veto a match.
 */
interface TokenSpec {
  kind: RedactionKind;
  src: string;
  accept?: (secret: string) => boolean;
}

/**
 * Several token patterns as one alternation (one scan of the text instead of one per pattern);
 * at a given position the first pattern listed wins.
 */
function tokenRules(specs: readonly TokenSpec[]): Rule {
  const re = new RegExp(
    specs.map((t, i) => `(?<t${i}>${t.src.replace('(?<b>', `(?<b${i}>`).replace('(?<s>', `(?<s${i}>`)})`).join('|'),
    'g',
  );
  return {
    apply: (text, _lower, st) =>
      text.replace(re, (...args: unknown[]) => {
        const m = args[0] as string;
        const groups = args[args.length - 1] as Record<string, string | undefined>;
        const i = specs.findIndex((_t, k) => groups[`t${k}`] !== undefined);
        const spec = specs[i];
        if (!spec) return m;
        const s = groups[`s${i}`];
        if (s === undefined) return spec.accept && !spec.accept(m) ? m : note(st, spec.kind);
        if (spec.accept && !spec.accept(s)) return m;
        const before = groups[`b${i}`] ?? '';
        return before + note(st, spec.kind) + m.slice(before.length + s.length);
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Placeholders

const PLACEHOLDER_WORDS: readonly string[] = [
  // what the value is meant to be
  'password', 'passwd', 'passphrase', 'pass', 'pwd', 'pw', 'secret', 'secrets', 'token', 'tokens', 'api', 'apikey',
  'key', 'keys', 'access', 'auth', 'client', 'private', 'value', 'text', 'string', 'str', 'bytes', 'int', 'number',
  'boolean', 'bool', 'any', 'unknown', 'object', 'secretstr',
  // instructions and markers
  'change', 'changeme', 'changeit', 'me', 'it', 'your', 'my', 'our', 'the', 'a', 'an', 'here', 'goes', 'insert',
  'enter', 'replace', 'put', 'with', 'this', 'test', 'testing', 'tests', 'dummy', 'mock', 'fake', 'example',
  'examples', 'sample', 'placeholder', 'redacted', 'hidden', 'masked', 'none', 'null', 'nil', 'undefined', 'true',
  'false', 'empty', 'blank', 'default', 'notset', 'unset', 'not', 'set', 'required', 'optional', 'todo', 'tbd',
  'fixme', 'foo', 'bar', 'baz', 'qux', 'foobar', 'xxx', 'xyz', 'abc',
  // well-known defaults
  'admin', 'root', 'guest', 'user', 'username', 'postgres', 'mysql', 'db', 'database', 'dev', 'local', 'localhost',
];
const WORDS = new Set(PLACEHOLDER_WORDS);
const MAX_WORD = Math.max(...PLACEHOLDER_WORDS.map((w) => w.length));

/** Whether `s` (lower-case letters) splits entirely into placeholder words. */
function splitsIntoWords(s: string): boolean {
  if (s.length === 0 || s.length > 64) return false;
  const ok = new Array<boolean>(s.length + 1).fill(false);
  ok[0] = true;
  for (let i = 0; i < s.length; i++) {
    if (!ok[i]) continue;
    for (let k = i + 1; k <= Math.min(s.length, i + MAX_WORD); k++) if (WORDS.has(s.slice(i, k))) ok[k] = true;
  }
  return ok[s.length] === true;
}

const MASK_ONLY = /^[*xX.•#?_-]+$/;
// a name rather than a value: letters only, in several segments (`invalidUserNameOrPassword`,
// `msal.cache.encryption`, `_RSAPrivateKey`, `invalid_secret`)
const IDENTIFIER_NAME = /^_*[A-Za-z]+(?:[._][A-Za-z]+)*$/;
const ENV_NAME = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/;
const PATH_LIKE = /^(?:\.{1,2}\/|~\/|\/[\w.-]|[A-Za-z]:[\\/])/;
const FILE_NAME = /^[\w.\/-]+\.(?:pem|key|crt|cer|p12|pfx|jks|json|ya?ml|toml|ini|txt|env|cfg|conf|properties|xml|pub|der|gpg|asc)$/i;
const VERSION = /^(?:[~^]|[<>]=?|=)?v?\d+(?:\.(?:\d+|x|\*)){1,3}(?:-[\w.]+)?$/;
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;
const ALPHA_WORD = /[A-Za-z]{2,}/g;
// words that make a phrase a message or a label rather than a passphrase
const PROSE_WORDS = new Set([
  ...PLACEHOLDER_WORDS, 'is', 'are', 'be', 'must', 'should', 'can', 'cannot', 'you', 'please', 'invalid', 'wrong',
  'missing', 'incorrect', 'match', 'matches', 'to', 'of', 'for', 'and', 'or', 'at', 'least', 'characters', 'new',
  'confirm', 'field', 'that', 'too', 'short', 'long', 'expired', 'no', 'reset', 'forgot', 'show', 'hide', 'in',
]);

/** A message or a label: several words, and it reads as such (capitalised, punctuated or with common words). */
function isProse(v: string): boolean {
  if (!/\s/.test(v)) return false;
  const words = v.match(ALPHA_WORD) ?? [];
  if (words.length < 2) return false;
  if (/^[A-Z][a-z]/.test(v) || /[.:!?]\s*$/.test(v)) return true;
  return words.some((w) => PROSE_WORDS.has(w.toLowerCase()));
}

/** See the module comment: values that are not secrets even when assigned to a secret name. */
export function isPlaceholder(value: string): boolean {
  const v = value.trim();
  if (v.length < 4) return true;
  if (v.includes(MARK_PREFIX) || v.includes('...') || v.includes('…')) return true;
  const c0 = v[0]!;
  const cN = v[v.length - 1]!;
  if (c0 === '$' || c0 === '%') return true;
  if (v.includes('{') && v.includes('}')) return true;
  if ((c0 === '<' && cN === '>') || (c0 === '[' && cN === ']') || (c0 === '(' && cN === ')')) return true;
  if (MASK_ONLY.test(v) || !/[A-Za-z0-9]/.test(v)) return true;
  if (IDENTIFIER_NAME.test(v) && /[._]|[a-z][A-Z]|[A-Z]{2}[a-z]/.test(v.replace(/^_+/, ''))) return true;
  let same = true;
  for (let i = 1; i < v.length && same; i++) same = v[i] === c0;
  if (same) return true;
  if (isProse(v)) return true;
  if (VERSION.test(v)) return true;
  if (ENV_NAME.test(v) || PATH_LIKE.test(v) || FILE_NAME.test(v) || URL_LIKE.test(v)) return true;
  const norm = v.toLowerCase().replace(/[-_. ]+/g, '');
  return /^[a-z]+$/.test(norm) && splitsIntoWords(norm);
}

// ---------------------------------------------------------------------------------------------
// Format rules

const B64 = 'A-Za-z0-9+/=';

/**
 * The part of a PEM body between its first and last base64 character: leading `Proc-Type:`,
 * `DEK-Info:` and `Comment:` header lines, whitespace, `\n` escapes, quotes and `" +` string
 * joins are kept outside it.
 */
function pemSpan(body: string): [number, number] | undefined {
  const ws = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
  const escape = (i: number) => body[i] === '\\' && (body[i + 1] === 'n' || body[i + 1] === 'r' || body[i + 1] === 't');
  const skip = (i: number): boolean => {
    const c = body[i];
    if (c === undefined) return false;
    if (ws(c) || c === '"' || c === "'" || c === '`' || c === ',') return true;
    return c === '+' && (ws(body[i - 1]) || ws(body[i + 1]));
  };
  let a = 0;
  for (;;) {
    if (escape(a)) a += 2;
    else if (skip(a)) a++;
    else if (/^(?:Proc-Type|DEK-Info|Comment):/.test(body.slice(a, a + 10))) {
      const nl = body.indexOf('\n', a);
      a = nl < 0 ? body.length : nl;
    } else break;
  }
  let z = body.length;
  for (;;) {
    if (z - 2 >= a && escape(z - 2)) z -= 2;
    else if (z > a && skip(z - 1)) z--;
    else break;
  }
  if (z <= a || !/[A-Za-z0-9+/]{20}/.test(body.slice(a, z))) return undefined;
  return [a, z];
}

const PEM_BODY = `(?:(?:Proc-Type|DEK-Info|Comment):[^\\n]*(?![^\\n])|[${B64}\\s"'\`,\\\\])*`;
const PEM_FULL = new RegExp(`(-----BEGIN ((?:[A-Z0-9]+ ){0,3})PRIVATE KEY(?: BLOCK)?-----)(${PEM_BODY})(-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----)?`, 'g');
// A suffix that starts inside a key: body chars from the very start, then the END line.
const PEM_TAIL = new RegExp(`^(${PEM_BODY})(-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----)`);

const pemRule: Rule = {
  apply: (text, _lower, st) => {
    if (!text.includes('PRIVATE KEY')) return text;
    let out = text.replace(PEM_FULL, (m: string, begin: string, _x: string, body: string) => {
      const span = pemSpan(body);
      if (!span) return m;
      return begin + body.slice(0, span[0]) + note(st, 'private_key') + m.slice(begin.length + span[1]);
    });
    out = out.replace(PEM_TAIL, (m: string, body: string) => {
      const span = pemSpan(body);
      if (!span) return m;
      return body.slice(0, span[0]) + note(st, 'private_key') + m.slice(span[1]);
    });
    return out;
  },
};

// Token edges: not glued to other token characters. Each pattern starts with its literal (so
// the engine can skip ahead quickly) and checks the character before it with a look-behind.
const W = '[A-Za-z0-9_]';
const WD = '[A-Za-z0-9_-]';
const R = '(?![A-Za-z0-9_])';
const RD = '(?![A-Za-z0-9_-])';
/** `literal` (regex source, `n` characters) not preceded by a character of `cls`. */
const edge = (literal: string, n: number, cls = W) => `${literal}(?<!${cls}.{${n}})`;

const hasDigit = (s: string) => /\d/.test(s);
const hasLetterAndDigit = (s: string) => /\d/.test(s) && /[A-Za-z]/.test(s);

const FORMAT_RULES: readonly Rule[] = [
  pemRule,
  // Tokens recognisable by their shape alone.
  tokenRules([
    { kind: 'aws_access_key_id', src: `${edge('(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])', 4)}[A-Z0-9]{16}${R}` },
    { kind: 'github_token', src: `${edge('gh[pousr]_', 4)}[A-Za-z0-9]{36,255}${R}` },
    { kind: 'github_token', src: `${edge('github_pat_', 11)}[A-Za-z0-9_]{22,255}${R}` },
    { kind: 'gitlab_token', src: `${edge('gl', 2, WD)}(?:pat|ptt|dt|rt|soat|cbt|ffct)-[A-Za-z0-9_-]{20,}${RD}` },
    { kind: 'slack_webhook', src: String.raw`(?<b>hooks\.slack\.com\/(?:services|workflows|triggers)\/)(?<s>[A-Za-z0-9_\/-]{20,})` },
    { kind: 'slack_token', src: `${edge('xox', 3, WD)}[abposre]-[A-Za-z0-9][A-Za-z0-9-]{8,}[A-Za-z0-9]${RD}`, accept: hasDigit },
    { kind: 'slack_token', src: `${edge('xapp-', 5, WD)}\\d-[A-Za-z0-9-]{20,}${RD}` },
    { kind: 'stripe_key', src: `${edge('[sr]k_', 3)}(?:live|test)_[A-Za-z0-9]{16,}${R}` },
    { kind: 'stripe_key', src: `${edge('whsec_', 6)}[A-Za-z0-9+/=]{24,}${R}` },
    { kind: 'anthropic_key', src: `${edge('sk-ant-', 7, WD)}[A-Za-z0-9_-]{20,}${RD}` },
    {
      kind: 'openai_key',
      src: `${edge('sk-', 3, WD)}(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{30,}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|[A-Za-z0-9]{32,})${RD}`,
      accept: hasLetterAndDigit,
    },
    { kind: 'google_api_key', src: `${edge('AIza', 4, WD)}[0-9A-Za-z_-]{35}${RD}` },
    { kind: 'google_api_key', src: `${edge('GOCSPX-', 7, WD)}[0-9A-Za-z_-]{28}${RD}` },
    { kind: 'google_api_key', src: `${edge('ya29\\.', 5, WD)}[0-9A-Za-z_-]{30,}${RD}` },
    { kind: 'npm_token', src: `${edge('npm_', 4)}[A-Za-z0-9]{36}${R}` },
    { kind: 'sendgrid_key', src: `${edge('SG\\.', 3)}[A-Za-z0-9_-]{16,32}\\.[A-Za-z0-9_-]{30,50}${RD}` },
    { kind: 'twilio_key', src: `${edge('SK', 2)}[0-9a-fA-F]{32}${R}` },
    { kind: 'jwt', src: `${edge('eyJ', 3, WD)}[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*` },
  ]),
  // Secrets recognised by what is around them; after the tokens, so that a token in such a
  // place keeps its own kind (`https://x:ghp_…@github.com` is a github_token).
  tokenRules([
    // scheme://user:password@host: only the password. `/`, `?`, `#`, `@` and spaces end the userinfo.
    { kind: 'url_password', src: String.raw`(?<b>:\/\/[^\s:@\/?#"'\x60<>]*:)(?<s>[^\s@\/?#"'\x60<>]+)(?=@)`, accept: (s) => !isPlaceholder(s) },
    { kind: 'azure_key', src: String.raw`(?<b>(?:AccountKey|SharedAccessKey|SharedSecret)=)(?<s>[A-Za-z0-9+\/]{16,}={0,2})` },
    {
      kind: 'auth_header',
      src: String.raw`(?<b>uthorization(?<=[Aa]uthorization)["'\]]?[ \t]*[:=,][ \t]*(?:["'\x60][ \t]*)?(?:Basic|Token|token|Digest)[ \t]+)(?<s>[A-Za-z0-9._~+\/-]{8,}={0,2})`,
      accept: (s) => !isPlaceholder(s),
    },
    // curl -u user:password
    {
      kind: 'url_password',
      src: String.raw`(?<b>-(?<!\S-)(?:u|-user)[ \t]+["']?[^\s:"'@\/]+:)(?<s>[^\s"'@]+)`,
      accept: (s) => !isPlaceholder(s),
    },
    {
      kind: 'bearer_token',
      src: String.raw`(?<b>earer(?<=(?<![A-Za-z])[Bb]earer)[ \t]+)(?<s>[A-Za-z0-9._~+\/-]{8,}={0,2})(?![A-Za-z0-9._~+\/=-])`,
      accept: (s) => hasLetterAndDigit(s) && !isPlaceholder(s),
    },
  ]),
];

// ---------------------------------------------------------------------------------------------
// Assignment rules

const KW = '(pass(?:word|wd|phrase)?|pwd|(?:api|access|secret|private|signing|encryption|master|auth|app|client)[_.-]?key|secret|token)';

function kindOf(kw: string): RedactionKind {
  const k = kw.toLowerCase();
  if (k.startsWith('pass') || k === 'pwd') return 'password';
  if (k.startsWith('secret')) return 'secret';
  if (k.endsWith('key')) return 'api_key';
  return 'token';
}

const AWS_SECRET_NAME = /aws.*secret|secret.?access.?key/i;

/** The kind for a value assigned to the name ending with `kw` at `at`. */
function kindFor(text: string, at: number, kw: string, value: string): RedactionKind {
  if (value.length === 40 && /^[A-Za-z0-9/+]+$/.test(value) && AWS_SECRET_NAME.test(nameBefore(text, at) + kw)) return 'aws_secret_access_key';
  return kindOf(kw);
}

/** Whether the keyword at `at` starts a word of the name (only checked for `pass` and `pwd`). */
function startsName(text: string, at: number, kw: string): boolean {
  const k = kw.toLowerCase();
  if (k !== 'pass' && k !== 'pwd') return true;
  const prev = text[at - 1];
  if (prev === undefined || !/[A-Za-z0-9]/.test(prev)) return true;
  return /[a-z0-9]/.test(prev) && /[A-Z]/.test(kw[0]!);
}

/** The part of the name before the keyword at `at` (`DB_` in `DB_PASSWORD`). */
function nameBefore(text: string, at: number): string {
  let i = at;
  while (i > 0 && at - i < 80 && /[A-Za-z0-9_.-]/.test(text[i - 1]!)) i--;
  return text.slice(i, at);
}

/** Stricter value test for names that are just `token` (lexers compare tokens with keywords). */
function tokenLike(kw: string, value: string): boolean {
  if (kw.toLowerCase() !== 'token') return true;
  return (value.length >= 12 && /\d/.test(value)) || (value.length >= 20 && /[a-z]/.test(value) && /[A-Z]/.test(value));
}

// NAME (digits) (closing quote/bracket) (type annotation) OP (literal wrapper) (string prefix)
// QUOTE value QUOTE. OP `,` is the call form `setenv("API_KEY", "…")`.
// Sticky: tried only where a keyword starts (see `assignmentRule`).
const QUOTED = new RegExp(
  KW +
    String.raw`(\d*(?:["'\x60]?\]?)?[ \t]*(?:(?:\??:[ \t]*[A-Za-z_][\w.\[\]]*(?:[ \t]*\|[ \t]*[A-Za-z_][\w.\[\]]*)*|(?<=[ \t])(?:string|String|str|\[\]byte))[ \t]*=|:=|===?|!==?|=>|\?\?=|\|\|=|=|:|,)[ \t]*(?:(?:\[\]byte|String::from|SecretStr|Buffer\.from|bytes|str)\([ \t]*)?(?:[rRbBuUfF]{1,2}|@)?(["'\x60]))((?:\\.|(?!\3)[^\\\n])*)\3`,
  'iy',
);

// NAME (digits) (closing quote) OP value, value unquoted; see the module comment.
const UNQUOTED = new RegExp(
  KW + String.raw`(\d*["']?)([ \t]*)(=|:(?=[ \t]))([ \t]*)([^\s"'\x60,;(){}\[\]<>&=][^\s"'\x60,;(){}\[\]<>&]*)(?=[ \t\r\n"'\x60&;#]|$)`,
  'imy',
);
const KEYWORD_VALUES = /^(?:none|null|nil|undefined|true|false|yes|no|on|off|~|str|string|int|bytes|bool|boolean|number|any|unknown|object|secretstr|new|await|self|this|required|optional)$/i;
const IDENT = /^[A-Za-z_$][\w$]*$/;
const NUMBER = /^[-+]?(?:0[xob][\da-f_]+|\d[\d_]*(?:\.\d+)?(?:e[-+]?\d+)?)n?$/i;
// a property path, optional chaining and non-null assertions included: `config.secret`, `a?.b!.c`
const DOTTED = /^[A-Za-z_$][\w$]*!?(?:\??\.#?[A-Za-z_$][\w$]*!?)+$/;

const COMMA_OP = /,[ \t]*(?:[^"'\x60]*\([ \t]*)?[rRbBuUfF@]{0,2}["'\x60]$/;
const COMMA_NAME = /^\d*["'\x60][ \t]*,/;
const FIELD_NAME = /^[A-Za-z]+(?:[-_.][A-Za-z]+)*$/;

/** The replacement for a quoted assignment at `at`, or undefined to keep it. */
function quoted(m: RegExpExecArray, text: string, at: number, st: State): string | undefined {
  const [, kw = '', mid = '', q = '', value = ''] = m;
  if (!startsName(text, at, kw)) return undefined;
  if (isPlaceholder(value) || !tokenLike(kw, value)) return undefined;
  if (COMMA_OP.test(mid)) {
    // `("password", "…")`: only with a quoted name right before the comma, and not for a value
    // that reads like another field name (`["password", "password_confirmation"]`)
    const open = text[at - nameBefore(text, at).length - 1];
    if (!COMMA_NAME.test(mid) || open !== mid.replace(/^\d*/, '')[0] || FIELD_NAME.test(value)) return undefined;
  }
  return kw + mid + note(st, kindFor(text, at, kw, value)) + q;
}

/** The replacement for an unquoted assignment at `at`, or undefined to keep it. */
function unquoted(m: RegExpExecArray, text: string, at: number, st: State): string | undefined {
  const [whole, kw = '', tail = '', sp1 = '', op = '', sp2 = '', value = ''] = m;
  if (!startsName(text, at, kw)) return undefined;
  const envStyle = op === '=' && sp1 === '' && sp2 === '';
  if (!envStyle) {
    // spaced `=` and `:` take the value only when it ends the line (or a comment follows)
    let i = at + whole.length;
    while (text[i] === ' ' || text[i] === '\t') i++;
    const c = text[i];
    const eol = c === undefined || c === '\n' || c === '\r' || c === '#' || c === ';' || (c === '/' && text[i + 1] === '/');
    if (!eol) return undefined;
  }
  if (isPlaceholder(value) || KEYWORD_VALUES.test(value) || NUMBER.test(value)) return undefined;
  if (!tokenLike(kw, value)) return undefined;
  const upperEnv = envStyle && !/[a-z]/.test(nameBefore(text, at) + kw);
  if (DOTTED.test(value) && !upperEnv) return undefined;
  if (IDENT.test(value)) {
    // `hunter2`, or a long random-looking run (`clientSecretOrAuthorizationCode` is code)
    const valueLike =
      (hasLetterAndDigit(value) && value.length >= 6) ||
      (value.length >= 20 && !/[a-z]{5}/.test(value) && /[a-z]/.test(value) && /[A-Z]/.test(value)) ||
      upperEnv ||
      (envStyle && !value.includes('_') && !/[a-z][A-Z]/.test(value));
    if (!valueLike) return undefined;
  }
  return kw + tail + sp1 + op + sp2 + note(st, kindFor(text, at, kw, value));
}

const NAME_ENDINGS = ['password', 'passwd', 'passphrase', 'pass', 'pwd', 'secret', 'token'] as const;
const KEY_PREFIX = /(?:api|access|secret|private|signing|encryption|master|auth|app|client)[_.-]?$/;
const GO_TYPE = /(?:^|[ \t])(?:string|String|str|\[\]byte)$/;
const isBlank = (c: number) => c === 32 || c === 9;
const isQuote = (c: number) => c === 34 || c === 39 || c === 96;
// the last letters of the keywords: passworD passwD passphrasE pasS pwD secreT tokeN keY
const LAST = new Set([100, 101, 115, 116, 110, 121, 68, 69, 83, 84, 78, 89]);

/** Where the name ends (exclusive) for an operator at `i`, skipping `]`, quotes, a type and digits; -1 if no keyword can end there. */
function nameEnd(text: string, i: number): number {
  let j = i;
  while (j > 0 && i - j < 2 && '!?|:='.includes(text[j - 1]!)) j--;
  while (j > 0 && isBlank(text.charCodeAt(j - 1))) j--;
  const c = text.charCodeAt(j - 1);
  if (c === 103 || c === 114 || c === 101) {
    // g r e: maybe a Go/Java type between the name and `=` (`var password string = …`)
    const typ = GO_TYPE.exec(text.slice(Math.max(0, j - 8), j));
    if (typ) {
      j -= typ[0].length;
      while (j > 0 && isBlank(text.charCodeAt(j - 1))) j--;
    }
  }
  if (text.charCodeAt(j - 1) === 93) j--; // ]
  if (isQuote(text.charCodeAt(j - 1))) j--;
  while (j > 0 && text.charCodeAt(j - 1) >= 48 && text.charCodeAt(j - 1) <= 57) j--;
  return LAST.has(text.charCodeAt(j - 1)) ? j : -1;
}

/** Where a secret keyword ending at `k` starts (in the lower-cased text), or -1. */
function keywordStartEndingAt(lower: string, k: number): number {
  for (const w of NAME_ENDINGS) if (k >= w.length && lower.startsWith(w, k - w.length)) return k - w.length;
  if (lower.startsWith('key', k - 3)) {
    const m = KEY_PREFIX.exec(lower.slice(Math.max(0, k - 15), k - 3));
    if (m) return k - 3 - m[0].length;
  }
  return -1;
}

/**
 * Where a keyword may start, ascending: found from the operators (`=`, `:` and `,` after a
 * quote are much rarer than the letters the keywords start with), looking back over the name.
 */
function keywordStarts(text: string, lower: string): number[] {
  const out: number[] = [];
  for (const op of ['=', ':', ',']) {
    for (let i = text.indexOf(op); i >= 0; i = text.indexOf(op, i + 1)) {
      if (op === ',') {
        // only `"name", …`
        let j = i;
        while (j > 0 && isBlank(text.charCodeAt(j - 1))) j--;
        if (!isQuote(text.charCodeAt(j - 1))) continue;
      }
      const k = nameEnd(text, i);
      if (k < 3) continue;
      const at = keywordStartEndingAt(lower, k);
      if (at >= 0) out.push(at);
    }
  }
  return out.sort((a, b) => a - b);
}

/**
 * Values assigned to secret names. Rather than scanning the whole text with a case-insensitive
 * alternation (slow), finds candidate names next to operators and tries the two sticky
 * patterns only where such a name starts.
 */
const assignmentRule: Rule = {
  apply: (text, lowered, st) => {
    const lower = lowered();
    const parts: string[] = [];
    let done = 0; // text before this is in parts
    let last = -1;
    for (const at of keywordStarts(text, lower)) {
      if (at < done || at === last) continue;
      last = at;
      QUOTED.lastIndex = at;
      let m = QUOTED.exec(text);
      let rep: string | undefined;
      if (m) rep = quoted(m, text, at, st);
      else {
        UNQUOTED.lastIndex = at;
        m = UNQUOTED.exec(text);
        if (m) rep = unquoted(m, text, at, st);
      }
      if (m && rep !== undefined) {
        parts.push(text.slice(done, at), rep);
        done = at + m[0].length;
      }
    }
    if (done === 0) return text;
    parts.push(text.slice(done));
    return parts.join('');
  },
};

const XML = /<([A-Za-z_][\w.-]{0,40})>([^<>\n]+)<\/\1>/g;
const XML_NAME = /(?:^|[^a-z]|(?<=[a-z0-9])(?=[A-Z]))(?:password|passwd|secret|token|api[_-]?key)$/i;
const xmlRule: Rule = {
  apply: (text, _lower, st) => {
    if (!text.includes('</')) return text;
    return text.replace(XML, (m: string, tag: string, value: string) => {
      if (!XML_NAME.test(tag) || isPlaceholder(value)) return m;
      const kind: RedactionKind = /pass/i.test(tag) ? 'password' : /secret/i.test(tag) ? 'secret' : /token/i.test(tag) ? 'token' : 'api_key';
      if (kind === 'token' && !tokenLike('token', value)) return m;
      return `<${tag}>${note(st, kind)}</${tag}>`;
    });
  },
};

const RULES: readonly Rule[] = [...FORMAT_RULES, assignmentRule, xmlRule];

/**
 * Replaces the sensitive part of every secret in `text` with `«redacted:<kind>»`. Returns the
 * new text, the number of redactions and the kinds found (each once, in rule order).
 * Idempotent: redacting a redacted text changes nothing.
 */
export function redactSecrets(text: string): Redaction {
  const st: State = { count: 0, kinds: new Set() };
  if (text.length === 0) return { text, count: 0, kinds: [] };
  let out = text;
  let lower: string | undefined;
  const lowered = () => {
    if (lower === undefined) {
      lower = out.toLowerCase();
      // keep offsets aligned when some character lower-cases to more than one code unit
      if (lower.length !== out.length) lower = out.replace(/[A-Z]+/g, (u) => u.toLowerCase());
    }
    return lower;
  };
  for (const rule of RULES) {
    const next = rule.apply(out, lowered, st);
    if (next !== out) {
      out = next;
      lower = undefined;
    }
  }
  return { text: out, count: st.count, kinds: [...st.kinds] };
}
