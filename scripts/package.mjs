// Builds a platform VSIX of Winnow: production bundles + the native modules the bundles
// keep external (zeromq, onnxruntime-node, better-sqlite3), with their runtime
// dependencies and only the target platform's binaries.
//
//   node scripts/package.mjs [--target <vsce target>] [--out <file.vsix>] [--no-build] [--no-verify]
//
// The target defaults to this machine's (linux-x64, darwin-arm64, alpine-x64, ...).
// better-sqlite3's addon is the one `npm install` built here, for this Node ABI, so a
// target of another platform is refused: package on (or for) the machine that runs it.
// After packaging, the VSIX is unpacked into a temp folder and each native module is
// required from there (better-sqlite3 also opens an in-memory database), unless
// --no-verify.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

function run(cmd, cmdArgs, opts = {}) {
  console.log(`$ ${[cmd, ...cmdArgs].join(' ')}`);
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${cmdArgs[0] ?? ''} exited with ${r.status ?? r.signal}`);
}

// ---- target ------------------------------------------------------------------------
function libcOfHost() {
  if (process.platform !== 'linux') return process.platform === 'win32' ? 'msvc' : 'libc';
  const report = process.report?.getReport?.();
  return report?.header?.glibcVersionRuntime ? 'glibc' : 'musl';
}

function hostTarget() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    if (libcOfHost() === 'musl') return `alpine-${arch}`;
    return arch === 'arm' ? 'linux-armhf' : `linux-${arch}`;
  }
  return `${platform}-${arch}`;
}

/** vsce target -> the node platform/arch/libc its binaries are for. */
function parseTarget(target) {
  const m = /^(win32|linux|darwin|alpine)-(x64|arm64|armhf|ia32)$/.exec(target);
  if (!m) fail(`unsupported target ${target}`);
  const [, t, a] = m;
  const platform = t === 'alpine' ? 'linux' : t;
  const arch = a === 'armhf' ? 'arm' : a;
  const libc = t === 'alpine' ? 'musl' : t === 'linux' ? 'glibc' : t === 'win32' ? 'msvc' : 'libc';
  return { platform, arch, libc };
}

const target = option('--target') ?? hostTarget();
const tgt = parseTarget(target);
const host = { platform: process.platform, arch: process.arch, libc: libcOfHost() };
if (tgt.platform !== host.platform || tgt.arch !== host.arch || tgt.libc !== host.libc) {
  fail(
    `target ${target} is not this machine (${hostTarget()}): better-sqlite3's addon is ` +
      `built by npm install for the machine it runs on; package on a ${target} machine`,
  );
}
const vsixName = option('--out') ?? `${manifest.name}-${target}-${manifest.version}.vsix`;
const vsixPath = path.resolve(root, vsixName);

// ---- build -------------------------------------------------------------------------
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
if (!flag('--no-build')) run(npm, ['run', 'build:production'], { shell: process.platform === 'win32' });
for (const f of ['client/out/extension.js', 'server/out/server.js', 'engine/out/cli.js']) {
  if (!fs.existsSync(path.join(root, f))) fail(`missing bundle ${f} (did the build run?)`);
}

// ---- the target's native files -------------------------------------------------------
const nm = (p) => path.join(root, 'node_modules', p);
const rel = (abs) => path.relative(root, abs).split(path.sep).join('/');

// zeromq: the prebuilt addons its build/manifest.json lists for this os/arch/libc (the
// cmake-ts loader tries those, newest ABI first), for Node 20 (ABI 115) and newer only
// (package.json: engines.node >= 20; the addons are Node-API, so a newer ABI's loads too).
const zmqManifest = JSON.parse(fs.readFileSync(nm('zeromq/build/manifest.json'), 'utf8'));
const zmqAddons = Object.entries(zmqManifest)
  .filter(([key]) => {
    const c = JSON.parse(key);
    return c.os === tgt.platform && c.arch === tgt.arch && c.libc === tgt.libc && (c.abi ?? 0) >= 115;
  })
  .map(([, file]) => `node_modules/zeromq/build/${file.replace(/\\/g, '/')}`)
  .filter((f) => fs.existsSync(path.join(root, f)));
if (zmqAddons.length === 0) fail(`zeromq has no prebuilt addon for ${target}`);

// onnxruntime-node: bin/napi-v6/<platform>/<arch>/ (binding + the onnxruntime library,
// and the CUDA/TensorRT providers where its install script fetched them).
const ortDir = `node_modules/onnxruntime-node/bin/napi-v6/${tgt.platform}/${tgt.arch}`;
if (!fs.existsSync(path.join(root, ortDir, 'onnxruntime_binding.node'))) {
  fail(`onnxruntime-node has no binding for ${target} (${ortDir})`);
}

const sqliteAddon = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
if (!fs.existsSync(path.join(root, sqliteAddon))) fail(`${sqliteAddon} is missing: run npm install (or npm rebuild better-sqlite3)`);

// .vscodeignore with its "target natives" block rewritten for this target.
const ignoreSrc = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8');
const begin = ignoreSrc.indexOf('# --- target natives: begin');
const end = ignoreSrc.indexOf('# --- target natives: end');
if (begin < 0 || end < 0) fail('.vscodeignore lacks its "target natives" block');
const block = [
  `# --- target natives: begin (generated for ${target}) ---`,
  ...zmqAddons.map((f) => `!${f}`),
  `!${ortDir}/*`,
  '',
].join('\n');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-package-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const ignoreFile = path.join(tmp, 'vscodeignore');
fs.writeFileSync(ignoreFile, ignoreSrc.slice(0, begin) + block + ignoreSrc.slice(end));

// ---- vsce ----------------------------------------------------------------------------
fs.rmSync(vsixPath, { force: true });
const vsce = require.resolve('@vscode/vsce/vsce');
run(process.execPath, [
  vsce,
  'package',
  '--target',
  target,
  '--out',
  vsixPath,
  '--ignoreFile',
  ignoreFile,
  // No repository field and no LICENSE file: say so rather than invent metadata. Without a
  // repository vsce cannot rewrite README's relative links (BENCHMARKS.md, docs/...) into
  // absolute ones, and stops unless told to leave them as they are.
  '--allow-missing-repository',
  '--skip-license',
  '--no-rewrite-relative-links',
]);

// ---- summary -------------------------------------------------------------------------
/** Entries of a zip file, read from its central directory. */
function readZip(file) {
  const buf = fs.readFileSync(file);
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) fail(`${file} is not a zip`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) fail(`${file}: bad central directory`);
    const method = buf.readUInt16LE(p + 10);
    const compressed = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    entries.push({
      name,
      size,
      compressed,
      data() {
        const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
        const raw = buf.subarray(start, start + compressed);
        return method === 0 ? raw : zlib.inflateRawSync(raw);
      },
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

const mb = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
const entries = readZip(vsixPath);
const groups = new Map();
for (const e of entries) {
  const parts = e.name.split('/');
  const key =
    parts[0] !== 'extension' ? parts[0] : parts[1] === 'node_modules' ? `node_modules/${parts[2]}` : parts.slice(1, -1).join('/') || '.';
  const g = groups.get(key) ?? { files: 0, size: 0 };
  g.files++;
  g.size += e.size;
  groups.set(key, g);
}
console.log(`\n${rel(vsixPath)}: ${mb(fs.statSync(vsixPath).size)} (${entries.length} files, ${mb(entries.reduce((s, e) => s + e.size, 0))} unpacked)`);
for (const [key, g] of [...groups].sort((a, b) => b[1].size - a[1].size)) {
  console.log(`  ${mb(g.size).padStart(9)}  ${String(g.files).padStart(4)} files  ${key}`);
}
const names = new Set(entries.map((e) => e.name));
const needed = [
  'extension/package.json',
  'extension/client/out/extension.js',
  'extension/server/out/server.js',
  'extension/engine/out/cli.js',
  'extension/media/out/dashboard.js',
  'extension/media/dashboard/dashboard.css',
  ...zmqAddons.map((f) => `extension/${f}`),
  `extension/${ortDir}/onnxruntime_binding.node`,
  `extension/${sqliteAddon}`,
];
const missing = needed.filter((n) => !names.has(n));
if (missing.length) fail(`the VSIX lacks:\n  ${missing.join('\n  ')}`);

// ---- verify: unpack and load each native module from the unpacked copy ----------------
if (!flag('--no-verify')) {
  const dir = path.join(tmp, 'unpacked');
  for (const e of entries) {
    if (e.name.endsWith('/')) continue;
    const out = path.join(dir, e.name);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, e.data());
  }
  const ext = path.join(dir, 'extension');
  const probe = `
    const zmq = require('zeromq');
    const s = new zmq.Router(); s.close();
    const ort = require('onnxruntime-node');
    if (typeof ort.InferenceSession?.create !== 'function') throw new Error('onnxruntime-node: no InferenceSession');
    const Database = require('better-sqlite3');
    const db = new Database(':memory:'); const one = db.prepare('select 1 as one').get().one; db.close();
    if (one !== 1) throw new Error('better-sqlite3: select 1 gave ' + one);
    for (const m of ['zeromq', 'onnxruntime-node', 'better-sqlite3']) {
      const p = require.resolve(m);
      if (!p.startsWith(__dirname)) throw new Error(m + ' resolved outside the VSIX: ' + p);
    }
    console.log('verify: zeromq ' + zmq.version + ', onnxruntime-node ' + require('onnxruntime-node/package.json').version + ', better-sqlite3: all loaded from the unpacked VSIX');
  `;
  fs.writeFileSync(path.join(ext, 'verify-natives.js'), probe);
  // NODE_PATH cleared and cwd in the unpacked folder, so nothing resolves to the repo.
  run(process.execPath, ['verify-natives.js'], { cwd: ext, env: { ...process.env, NODE_PATH: '' } });
}
console.log(`\n${rel(vsixPath)} ${mb(fs.statSync(vsixPath).size)}`);
