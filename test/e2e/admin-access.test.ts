// kfn dev's admin API as a user starts it: never open to the network without a token, and
// with one the CLI finds it (dev.json, this user's only) while anyone without it is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { helloManifest, runKfn, startDev } from '../util/dev.js';

const TOKEN = 'e2e-token-0123456789abcdef';

test('kfn dev --host 0.0.0.0 without a token refuses to start, saying how to fix it', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kfn-open-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = { ...process.env, KFN_HOME: path.join(dir, 'home') };
  delete env.KFN_ADMIN_TOKEN;
  const r = await runKfn(['dev', dir, '--host', '0.0.0.0', '--port', '0', '--admin-port', '0', '--events-port', '0'], env);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^kfn: refusing to listen on 0\.0\.0\.0: the admin API .* --admin-token or KFN_ADMIN_TOKEN/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'a message, not a stack trace');
  assert.equal(existsSync(path.join(dir, 'home', 'dev.json')), false, 'it never ran');
});

test('kfn dev with a token: the CLI sends it from dev.json (mode 0600); requests without it get 401', async () => {
  const saved = process.env.KFN_ADMIN_TOKEN;
  delete process.env.KFN_ADMIN_TOKEN;
  const dev = await startDev({}, ['--admin-token', TOKEN]).finally(() => {
    if (saved !== undefined) process.env.KFN_ADMIN_TOKEN = saved;
  });
  try {
    const stateFile = path.join(dev.home, 'dev.json');
    assert.equal((await stat(stateFile)).mode & 0o777, 0o600, 'the token is readable by this user only');
    assert.equal((JSON.parse(await readFile(stateFile, 'utf8')) as { token?: string }).token, TOKEN);

    const anonymous = await fetch(`${dev.admin}/api/functions`);
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { error: { code: string } }).error.code, 'unauthorized');
    const wrong = await fetch(`${dev.admin}/api/functions`, { headers: { authorization: 'Bearer not-the-token-at-all' } });
    assert.equal(wrong.status, 401);

    const file = path.join(dev.dir, 'fn.json');
    await writeFile(file, helloManifest('guarded'));
    const applied = await dev.kfn('apply', '-f', file);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /guarded created/);
    const list = await dev.kfn('get');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /guarded/);
  } finally {
    await dev.stop();
  }
});
