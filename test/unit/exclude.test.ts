import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUILTIN_EXCLUDES, isExcluded } from '../../server/src/exclude';

const excluded = (p: string, globs: readonly string[] = []) => isExcluded(p, globs).excluded;

test('built-in secrets files are excluded, with the pattern that matched', () => {
  const cases: [string, string][] = [
    ['/home/me/app/.env', '.env'],
    ['/home/me/app/.env.local', '.env.*'],
    ['/home/me/app/.env.production', '.env.*'],
    ['/home/me/app/config/prod.env', '*.env'],
    ['/home/me/app/.envrc', '.envrc'],
    ['/srv/tls/server.pem', '*.pem'],
    ['/srv/tls/server.key', '*.key'],
    ['certs/client.p12', '*.p12'],
    ['certs/client.pfx', '*.pfx'],
    ['android/app/release.jks', '*.jks'],
    ['android/app/debug.keystore', '*.keystore'],
    ['/home/me/Passwords.kdbx', '*.kdbx'],
    ['/home/me/keys/putty.ppk', '*.ppk'],
    ['ios/AuthKey_ABC123XYZ.p8', 'AuthKey_*.p8'],
    ['/home/me/backup/id_rsa', 'id_rsa*'],
    ['/home/me/backup/id_rsa_work', 'id_rsa*'],
    ['/home/me/backup/id_ed25519', 'id_ed25519*'],
    ['/home/me/backup/id_ecdsa', 'id_ecdsa*'],
    ['/home/me/backup/id_dsa', 'id_dsa*'],
    ['/home/me/app/.npmrc', '.npmrc'],
    ['/home/me/.pypirc', '.pypirc'],
    ['/home/me/.netrc', '.netrc'],
    ['/home/me/.git-credentials', '.git-credentials'],
    ['/home/me/.pgpass', '.pgpass'],
    ['/var/www/.htpasswd', '.htpasswd'],
    ['/home/me/.docker/config.json', '**/.docker/config.json'],
    ['/home/me/.kube/config', '**/.kube/config'],
    ['/home/me/.aws/credentials', '**/.aws/credentials'],
    ['/home/me/.aws/credentials.json', '**/.aws/credentials.json'],
    ['/home/me/.config/gcloud/credentials.db', '**/.config/gcloud/**'],
    ['/home/me/.config/gcloud/legacy_credentials/me@example.com/adc.json', '**/.config/gcloud/**'],
    ['/home/me/.config/gcloud/application_default_credentials.json', '**/.config/gcloud/**'],
    ['/tmp/application_default_credentials.json', 'application_default_credentials.json'],
    ['/home/me/Downloads/client_secret_1234-abc.apps.googleusercontent.com.json', 'client_secret*.json'],
    ['infra/terraform.tfstate', '*.tfstate'],
    ['infra/terraform.tfstate.backup', '*.tfstate.backup'],
    ['deploy/secrets.yaml', 'secrets.{json,yaml,yml,toml,ini,env,txt,xml,properties,conf,cfg}'],
    ['deploy/secrets.json', 'secrets.{json,yaml,yml,toml,ini,env,txt,xml,properties,conf,cfg}'],
    ['deploy/db.secret', '*.secret'],
    ['deploy/app.secrets', '*.secrets'],
    ['config/appsettings.secrets.json', '*.secrets.{json,yaml,yml,toml,ini,env,txt,xml,properties,conf,cfg}'],
    ['helm/values.secret.yaml', '*.secret.{json,yaml,yml,toml,ini,env,txt,xml,properties,conf,cfg}'],
    ['/home/me/.ssh/config', '**/.ssh/**'],
    ['/home/me/.ssh/known_hosts', '**/.ssh/**'],
    ['/home/me/.ssh/id_ed25519.pub', '**/.ssh/**'],
    ['.ssh/authorized_keys', '**/.ssh/**'],
  ];
  for (const [p, pattern] of cases) {
    assert.deepEqual(isExcluded(p, []), { excluded: true, pattern }, p);
    assert.ok(BUILTIN_EXCLUDES.includes(pattern), pattern);
  }
});

test('look-alikes are not excluded', () => {
  for (const p of [
    '/home/me/app/environment.py',
    '/home/me/app/env.ts',
    '/home/me/app/src/env/index.ts',
    '/home/me/app/.environment',
    '/home/me/app/keys.ts',
    '/home/me/app/src/keyboard.ts',
    '/home/me/app/monkey.py',
    '/home/me/app/turkey.key.ts',
    '/home/me/app/pem.ts',
    '/home/me/app/parse_pem.go',
    '/home/me/app/keystore_test.go',
    '/home/me/app/keystore.ts',
    '/home/me/app/secrets.py',
    '/home/me/app/src/secrets.ts',
    '/home/me/app/src/secret.ts',
    '/home/me/app/secret_manager.go',
    '/home/me/app/credentials.ts',
    '/home/me/app/src/aws/credentials.ts',
    '/home/me/app/npmrc.ts',
    '/home/me/app/netrc_parser.py',
    '/home/me/app/tfstate.go',
    '/home/me/app/ssh/client.go',
    '/home/me/app/src/ssh_keys.rs',
    '/home/me/.ssh-agent.sh',
    '/home/me/backup/id_rsa.pub',
    '/home/me/backup/id_ed25519.pub',
    '/home/me/app/id_rsa_parser.pub',
    '/home/me/app/gcloud/client.go',
    '/home/me/app/Dockerfile',
    '/home/me/app/docker/config.json',
    '/home/me/app/kube/config.yaml',
  ]) {
    assert.deepEqual(isExcluded(p, []), { excluded: false }, p);
  }
});

test('env templates are allowed: they are meant to be committed', () => {
  for (const p of [
    '/app/.env.example',
    '/app/.env.sample',
    '/app/.env.template',
    '/app/.env.dist',
    '/app/.env.local.example',
    '/app/.env.production.sample',
    '/app/example.env',
    '/app/docker.env.template',
    'C:\\app\\.ENV.EXAMPLE',
  ]) {
    assert.equal(excluded(p), false, p);
  }
  // but not a name that merely contains the word
  assert.equal(excluded('/app/.env.examples-local'), true);
});

test('user globs without a slash match the base name or a folder anywhere', () => {
  const globs = ['*.gen.ts', 'fixtures', 'vendor/'];
  assert.deepEqual(isExcluded('/home/me/app/src/api.gen.ts', globs), { excluded: true, pattern: '*.gen.ts' });
  assert.deepEqual(isExcluded('src/api.gen.ts', globs), { excluded: true, pattern: '*.gen.ts' });
  assert.deepEqual(isExcluded('/home/me/app/test/fixtures/big.json', globs), { excluded: true, pattern: 'fixtures' });
  assert.deepEqual(isExcluded('/home/me/app/vendor/lib/x.go', globs), { excluded: true, pattern: 'vendor/' });
  // a trailing slash means a folder: a file of that name is not excluded
  assert.equal(excluded('/home/me/app/docs/vendor', globs), false);
  assert.equal(excluded('/home/me/app/src/api.ts', globs), false);
  assert.equal(excluded('/home/me/app/src/fixtures.ts', globs), false);
});

test('user globs with a slash match the path, relative or absolute', () => {
  const globs = ['config/prod.yaml', 'src/generated', '/opt/company/**/*.sql', 'packages/*/dist/**'];
  assert.deepEqual(isExcluded('/home/me/app/config/prod.yaml', globs), { excluded: true, pattern: 'config/prod.yaml' });
  assert.equal(excluded('config/prod.yaml', globs), true);
  assert.equal(excluded('./config/prod.yaml', globs), true);
  assert.equal(excluded('/home/me/app/config/dev.yaml', globs), false);
  assert.equal(excluded('/home/me/app/myconfig/prod.yaml', globs), false);
  assert.equal(excluded('/home/me/app/src/generated/api.ts', globs), true);
  assert.equal(excluded('/home/me/app/src/generated.ts', globs), false);
  assert.equal(excluded('/opt/company/db/migrations/001.sql', globs), true);
  assert.equal(excluded('/home/opt/company/db/001.sql', globs), false);
  assert.equal(excluded('/repo/packages/core/dist/index.js', globs), true);
  assert.equal(excluded('/repo/packages/core/src/index.ts', globs), false);
});

test('a user glob with ! includes again what was excluded, built-ins included; the last match wins', () => {
  assert.deepEqual(isExcluded('/app/certs/dev.key', ['!dev.key']), { excluded: false });
  assert.deepEqual(isExcluded('/app/certs/prod.key', ['!dev.key']), { excluded: true, pattern: '*.key' });
  assert.deepEqual(isExcluded('/app/src/a.ts', ['src/', '!a.ts']), { excluded: false });
  assert.deepEqual(isExcluded('/app/src/a.ts', ['!a.ts', 'src/']), { excluded: true, pattern: 'src/' });
  // empty and odd entries are ignored
  assert.deepEqual(isExcluded('/app/src/a.ts', ['', '  ', '!', '/']), { excluded: false });
});

test('Windows paths and file URIs are normalized; case is ignored for them', () => {
  assert.deepEqual(isExcluded('C:\\Users\\x\\.env', []), { excluded: true, pattern: '.env' });
  assert.deepEqual(isExcluded('C:\\Users\\x\\proj\\.ENV.Local', []), { excluded: true, pattern: '.env.*' });
  assert.deepEqual(isExcluded('C:\\Users\\x\\.ssh\\id_rsa', []), { excluded: true, pattern: 'id_rsa*' });
  assert.deepEqual(isExcluded('C:\\Users\\x\\.ssh\\config', []), { excluded: true, pattern: '**/.ssh/**' });
  assert.deepEqual(isExcluded('C:\\Users\\x\\.aws\\credentials', []), { excluded: true, pattern: '**/.aws/credentials' });
  assert.deepEqual(isExcluded('C:\\Users\\x\\AppData\\Roaming\\gcloud\\credentials.db', []), {
    excluded: true,
    pattern: '**/AppData/Roaming/gcloud/**',
  });
  assert.deepEqual(isExcluded('D:\\certs\\Server.PEM', []), { excluded: true, pattern: '*.pem' });
  assert.equal(excluded('C:\\Users\\x\\proj\\environment.py'), false);
  assert.equal(excluded('C:\\Users\\x\\proj\\keys.ts'), false);
  // user globs, both slash styles
  assert.equal(excluded('C:\\work\\app\\Config\\Prod.yaml', ['config/prod.yaml']), true);
  assert.equal(excluded('C:\\work\\app\\src\\x.ts', ['C:\\work\\app\\src\\**']), true);
  assert.equal(excluded('C:\\work\\app\\src\\x.ts', ['c:/work/app/src/*.ts']), true);
  assert.equal(excluded('C:\\work\\app\\lib\\x.ts', ['C:/work/app/src/**']), false);
  // file URIs
  assert.equal(excluded('file:///home/me/app/.env'), true);
  assert.equal(excluded('file:///c%3A/Users/x/app/.env.local'), true);
  assert.equal(excluded('file:///home/me/app/src/main.ts'), false);
});

test('on POSIX paths case matters (unless running on Windows)', () => {
  if (process.platform === 'win32') return;
  assert.equal(excluded('/home/me/app/.ENV'), false);
  assert.equal(excluded('/home/me/app/.env'), true);
});

test('BUILTIN_EXCLUDES lists the documented patterns', () => {
  for (const p of ['.env', '.env.*', '*.pem', '*.key', '*.p12', '*.pfx', '*.jks', '*.keystore', '*.kdbx', 'id_rsa*', 'id_ed25519*', 'id_ecdsa*', 'id_dsa*', '.npmrc', '.pypirc', '.netrc', '.git-credentials', '*.tfstate', '**/.ssh/**']) {
    assert.ok(BUILTIN_EXCLUDES.includes(p), p);
  }
});
