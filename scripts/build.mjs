// One esbuild script, four bundles: the extension (vscode external), the language
// server, the engine, and the dashboard's page (a browser script with Chart.js, for the
// webview). Native modules stay external and ship beside the bundles.
// Usage: node scripts/build.mjs [--production] [--watch]
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const native = ['zeromq', 'onnxruntime-node', 'better-sqlite3'];

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  external: native,
};

const targets = [
  { ...common, entryPoints: ['client/src/extension.ts'], outfile: 'client/out/extension.js', external: [...native, 'vscode'] },
  { ...common, entryPoints: ['server/src/main.ts'], outfile: 'server/out/server.js' },
  { ...common, entryPoints: ['engine/src/cli.ts'], outfile: 'engine/out/cli.js', banner: { js: '#!/usr/bin/env node' } },
  { ...common, entryPoints: ['media/dashboard/main.ts'], outfile: 'media/out/dashboard.js', platform: 'browser', format: 'iife', target: 'chrome120', external: [] },
];

// The engine's better-sqlite3 addon is built by `npm ci` for this Node.js's module ABI; the
// extension reads this to pick a Node.js that can load it.
fs.mkdirSync('engine/out', { recursive: true });
fs.writeFileSync('engine/out/runtime.json', `${JSON.stringify({ nodeAbi: process.versions.modules, node: process.version }, null, 2)}\n`);

if (watch) {
  for (const t of targets) await (await esbuild.context(t)).watch();
  console.log('esbuild: watching client, server, engine and dashboard');
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
}
