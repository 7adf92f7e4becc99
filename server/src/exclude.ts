/**
 * Files that are never sent to the generator and never stored: secrets files (built in) and
 * whatever the user lists in the `winnow.exclude` setting.
 *
 * Built-in patterns (BUILTIN_EXCLUDES) are matched with minimatch, `dot: true`, against the
 * base name when they have no slash and against the whole path when they do. Judgment calls:
 *  - `.env`, `.env.*`, `*.env` and `.envrc` are excluded, but env TEMPLATES are allowed: a name
 *    starting with `.env` or ending with `.env` one of whose dot-separated parts is `example`,
 *    `sample`, `template` or `dist` (`.env.example`, `.env.local.sample`, `.env.dist`,
 *    `example.env`). They are meant to be committed and hold no secrets (and the redactor still
 *    runs on everything that is stored).
 *  - `id_rsa*`, `id_ed25519*`, `id_ecdsa*`, `id_dsa*` are private keys, except `*.pub`; anything
 *    under a `.ssh` directory is excluded, public keys included.
 *  - `secrets.*` and `*.secret(s)` / `*.secret(s).*` only for data and config extensions (json,
 *    yaml, toml, ini, env, txt, xml, properties, conf, cfg): `secrets.py` or `secrets.ts` is code
 *    (Python's `secrets` module, a secrets-loading helper) and stays eligible.
 *  - `credentials` / `credentials.json` are excluded under `.aws`, and everything under the
 *    gcloud configuration folders (`.config/gcloud`, `AppData/Roaming/gcloud`), plus
 *    `application_default_credentials.json` and Google's `client_secret*.json` anywhere; a file
 *    called `credentials.ts` elsewhere is code.
 *
 * User globs (`winnow.exclude`), checked after the built-ins, in order, the last match winning:
 *  - without a slash, a glob matches the base name or any folder name on the path
 *    (`*.gen.ts`, `fixtures`, `vendor`), like .gitignore;
 *  - with a slash, it matches the path: an absolute glob (`/…`, `C:/…`) the whole path, a
 *    relative one any trailing part of it (`config/prod.yaml` matches
 *    `/home/me/app/config/prod.yaml` and `config/prod.yaml`), and a folder glob matches what
 *    is inside the folder (`build/` and `src/generated` exclude their contents);
 *  - a leading `!` includes again what an earlier glob (or a built-in pattern) excluded.
 *
 * Paths may be POSIX, Windows (`C:\Users\me\.env`) or `file://` URIs; backslashes are read as
 * separators. Matching ignores case on Windows, and for paths that are evidently Windows paths
 * (a drive letter or backslashes) wherever this runs.
 */
import { Minimatch } from 'minimatch';

const DATA_EXT = '{json,yaml,yml,toml,ini,env,txt,xml,properties,conf,cfg}';

interface Builtin {
  glob: string;
  /** Base names this pattern lets through. */
  unless?: (base: string) => boolean;
}

const TEMPLATE_PART = /^(?:example|sample|template|dist)$/i;
/** An env template: one of the dot-separated parts of the name says so. */
const isEnvTemplate = (base: string) => base.split('.').some((p) => TEMPLATE_PART.test(p));
const isPublicKey = (base: string) => /\.pub$/i.test(base);

const BUILTINS: readonly Builtin[] = [
  { glob: '.env', unless: isEnvTemplate },
  { glob: '.env.*', unless: isEnvTemplate },
  { glob: '*.env', unless: isEnvTemplate },
  { glob: '.envrc' },
  { glob: '*.pem' },
  { glob: '*.key' },
  { glob: '*.p12' },
  { glob: '*.pfx' },
  { glob: '*.jks' },
  { glob: '*.keystore' },
  { glob: '*.kdbx' },
  { glob: '*.ppk' },
  { glob: 'AuthKey_*.p8' },
  { glob: 'id_rsa*', unless: isPublicKey },
  { glob: 'id_ed25519*', unless: isPublicKey },
  { glob: 'id_ecdsa*', unless: isPublicKey },
  { glob: 'id_dsa*', unless: isPublicKey },
  { glob: '.npmrc' },
  { glob: '.pypirc' },
  { glob: '.netrc' },
  { glob: '_netrc' },
  { glob: '.git-credentials' },
  { glob: '.pgpass' },
  { glob: '.htpasswd' },
  { glob: '.vault-token' },
  { glob: '.dockercfg' },
  { glob: '**/.docker/config.json' },
  { glob: '**/.kube/config' },
  { glob: '**/.aws/credentials' },
  { glob: '**/.aws/credentials.json' },
  { glob: '**/.config/gcloud/**' },
  { glob: '**/AppData/Roaming/gcloud/**' },
  { glob: 'application_default_credentials.json' },
  { glob: 'client_secret*.json' },
  { glob: '*.tfstate' },
  { glob: '*.tfstate.backup' },
  { glob: `secrets.${DATA_EXT}` },
  { glob: '*.secret' },
  { glob: '*.secrets' },
  { glob: `*.secret.${DATA_EXT}` },
  { glob: `*.secrets.${DATA_EXT}` },
  { glob: '**/.ssh/**' },
];

/** The built-in patterns, as globs (a few have exceptions: see the module comment). */
export const BUILTIN_EXCLUDES: readonly string[] = BUILTINS.map((b) => b.glob);

export interface ExcludeResult {
  excluded: boolean;
  /** The built-in pattern or user glob that decided it (absent when not excluded). */
  pattern?: string;
}

const cache = new Map<string, Minimatch>();
function matcher(glob: string, nocase: boolean): Minimatch {
  const key = `${nocase ? 'i' : 'c'}\0${glob}`;
  let m = cache.get(key);
  if (!m) {
    m = new Minimatch(glob, { dot: true, matchBase: true, nocase, nonegate: true, nocomment: true });
    if (cache.size > 1000) cache.clear();
    cache.set(key, m);
  }
  return m;
}

/** Forward slashes, no `file://`, no `./`, no repeated or trailing slashes. */
function normalize(filePath: string): string {
  let p = filePath.trim();
  if (/^file:\/\//i.test(p)) {
    try {
      p = decodeURIComponent(new URL(p).pathname);
      if (/^\/[A-Za-z]:/.test(p)) p = p.slice(1); // file:///c:/x → c:/x
    } catch {
      p = p.replace(/^file:\/\//i, '');
    }
  }
  p = p.replace(/\\/g, '/').replace(/\/{2,}/g, '/');
  while (p.startsWith('./')) p = p.slice(2);
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

const looksWindows = (p: string) => /^[A-Za-z]:[\\/]/.test(p) || p.includes('\\') || /^file:\/\/\/[A-Za-z](?::|%3A)/i.test(p);

/** Whether one user glob (without its `!`) matches the normalized path. */
function userGlobMatches(glob: string, path: string, nocase: boolean): boolean {
  let g = normalize(glob);
  const dirOnly = /[\\/]$/.test(glob.trim());
  if (g === '' || g === '/') return false;
  const segments = path.split('/').filter((s) => s !== '');
  if (!g.includes('/')) {
    // base name, or any folder on the path
    const m = matcher(g, nocase);
    const names = dirOnly ? segments.slice(0, -1) : segments;
    return names.some((s) => m.match(s));
  }
  const absolute = g.startsWith('/') || /^[A-Za-z]:\//.test(g);
  if (!absolute && !g.startsWith('**/')) g = `**/${g}`;
  if (!dirOnly && matcher(g, nocase).match(path)) return true;
  // a folder: what is inside it
  return matcher(`${g}/**`, nocase).match(path);
}

/**
 * Whether the file must be kept away from the generator and the store, and the pattern that
 * decided it. `userGlobs` is the `winnow.exclude` setting.
 */
export function isExcluded(filePath: string, userGlobs: readonly string[]): ExcludeResult {
  const path = normalize(filePath);
  if (path === '') return { excluded: false };
  const nocase = process.platform === 'win32' || looksWindows(filePath);
  const base = path.slice(path.lastIndexOf('/') + 1);
  let result: ExcludeResult = { excluded: false };
  for (const b of BUILTINS) {
    if (matcher(b.glob, nocase).match(path) && !b.unless?.(base)) {
      result = { excluded: true, pattern: b.glob };
      break;
    }
  }
  for (const raw of userGlobs) {
    if (typeof raw !== 'string') continue;
    const negated = raw.trim().startsWith('!');
    const glob = negated ? raw.trim().slice(1) : raw;
    if (glob.trim() === '') continue;
    if (userGlobMatches(glob, path, nocase)) result = negated ? { excluded: false } : { excluded: true, pattern: raw };
  }
  return result;
}
