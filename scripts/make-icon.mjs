// Renders media/icon.svg to media/icon.png (128×128, transparent corners) with playwright-core
// and the system Chromium. Run by hand after changing the SVG; the PNG is committed:
//   node scripts/make-icon.mjs [--chromium /usr/bin/chromium]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--chromium');
const executablePath = at > 0 ? process.argv[at + 1] : (process.env.WINNOW_E2E_CHROMIUM ?? '/usr/bin/chromium');
const svg = fs.readFileSync(path.join(root, 'media', 'icon.svg'), 'utf8');
const size = 128;

const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
try {
  const page = await browser.newPage({ viewport: { width: size, height: size }, deviceScaleFactor: 1 });
  await page.setContent(`<!doctype html><html><body style="margin:0;background:transparent">${svg}</body></html>`);
  const out = path.join(root, 'media', 'icon.png');
  await page.locator('svg').screenshot({ path: out, omitBackground: true });
  console.log(`wrote ${path.relative(root, out)} (${fs.statSync(out).size} bytes)`);
} finally {
  await browser.close();
}
