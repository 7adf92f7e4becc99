/**
 * The dashboard webview's HTML: a strict Content-Security-Policy (nothing inline; the one
 * script by nonce; styles, images and fonts only from the extension's media folder) and an
 * empty page that media/dashboard/main.ts fills. Pure, for the unit tests.
 */

export interface PageResources {
  /** `webview.cspSource`. */
  cspSource: string;
  /** Webview URIs of media/out/dashboard.js and media/dashboard/dashboard.css. */
  script: string;
  style: string;
  nonce: string;
}

export function contentSecurityPolicy(r: Pick<PageResources, 'cspSource' | 'nonce'>): string {
  // Chart.js sizes its canvas through the CSSOM (element.style), which style-src does not
  // govern, so no 'unsafe-inline' is needed.
  return [
    "default-src 'none'",
    `img-src ${r.cspSource} data:`,
    `style-src ${r.cspSource}`,
    `script-src 'nonce-${r.nonce}'`,
    `font-src ${r.cspSource}`,
  ].join('; ');
}

const escapeAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function dashboardHtml(r: PageResources): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(contentSecurityPolicy(r))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(r.style)}">
<title>Winnow Dashboard</title>
</head>
<body>
<main id="dashboard" aria-busy="true"><h1>Winnow</h1><p>Loading…</p></main>
<script nonce="${escapeAttr(r.nonce)}" src="${escapeAttr(r.script)}"></script>
</body>
</html>
`;
}
