// kfn-node-runtime as a real child process: both handler forms, errors, the start-up
// line and the SIGTERM drain.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../util/wait.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const runtimeBin = path.join(root, 'bin', 'kfn-node-runtime');

const HANDLERS: Record<string, string> = {
  'echo.mjs': `
    export default async function (req) {
      if (req.path === '/boom') throw new Error('boom: secret detail');
      if (req.path === '/json') return { got: req.json() };
      if (req.path === '/text') return 'plain text';
      if (req.path === '/nothing') return undefined;
      if (req.path === '/created') return { status: 201, headers: { 'X-Thing': 'yes' }, body: { id: 7 } };
      if (req.path === '/slow') {
        console.log(JSON.stringify({ level: 'info', msg: 'slow request started' }));
        await new Promise((r) => setTimeout(r, Number(req.query.get('ms') ?? 300)));
        return { slept: true };
      }
      return { method: req.method, path: req.path, query: Object.fromEntries(req.query), body: req.text() };
    }
  `,
  'raw.mjs': `
    export function raw(req, res) {
      if (req.url === '/boom') throw new Error('raw boom');
      if (req.url === '/async-boom') return Promise.reject(new Error('async raw boom'));
      res.writeHead(200, { 'content-type': 'text/plain' });
      let n = 0;
      const timer = setInterval(() => {
        res.write('chunk' + n + '\\n');
        if (++n === 3) { clearInterval(timer); res.end(); }
      }, 5);
    }
  `,
  'empty.mjs': `export const nothing = 1;`,
};

interface Started {
  child: ChildProcess;
  port: number;
  stdout: Array<Record<string, unknown>>;
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let dir: string;
const children = new Set<ChildProcess>();

function launch(handler: string, env: Record<string, string> = {}): Omit<Started, 'port'> {
  const child = spawn(runtimeBin, [handler], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', PORT: '0', KFN_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const stdout: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    out += s;
    let nl;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      try {
        stdout.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        stdout.push({ text: line });
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => stderr.push(...s.split('\n').filter(Boolean)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, stdout, stderr, exited };
}

async function start(handler: string, env: Record<string, string> = {}): Promise<Started> {
  const s = launch(handler, env);
  const listening = await waitFor('the listening line', () => s.stdout.find((l) => l.msg === 'listening'), { timeoutMs: 10_000 });
  return { ...s, port: listening.port as number };
}

/** A plain http request on its own connection, so no keep-alive pool hides anything. */
function get(port: number, pathname: string, body?: string): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathname, method: body === undefined ? 'GET' : 'POST', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

void before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kfn-runtime-test-'));
  for (const [name, text] of Object.entries(HANDLERS)) await writeFile(path.join(dir, name), text);
});

void after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('kfn-node-runtime', () => {
  it('prints a listening line with its port and its own start time', async () => {
    const s = await start('echo.mjs');
    const line = s.stdout.find((l) => l.msg === 'listening');
    assert.ok(line);
    assert.equal(line.form, 'default');
    assert.equal(typeof line.listeningAfterMs, 'number');
    assert.ok((line.listeningAfterMs as number) > 0 && (line.listeningAfterMs as number) < 10_000);
    assert.ok(s.port > 0);
    s.child.kill('SIGTERM');
    assert.deepEqual(await s.exited, { code: 0, signal: null });
  });

  describe('a default-export handler', () => {
    let s: Started;
    void before(async () => (s = await start('echo.mjs')));
    void after(async () => {
      s.child.kill('SIGTERM');
      await s.exited;
    });

    it('gets method, path, query and body, and its object is sent as JSON', async () => {
      const res = await get(s.port, '/hello?a=1&b=two', 'payload');
      assert.equal(res.status, 200);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.deepEqual(JSON.parse(res.text), { method: 'POST', path: '/hello', query: { a: '1', b: 'two' }, body: 'payload' });
    });

    it('can parse a JSON body, and a body that is not JSON is a 400', async () => {
      const ok = await get(s.port, '/json', '{"x":[1,2]}');
      assert.deepEqual(JSON.parse(ok.text), { got: { x: [1, 2] } });
      const bad = await get(s.port, '/json', 'not json');
      assert.equal(bad.status, 400);
      assert.match((JSON.parse(bad.text) as { error: string }).error, /not JSON/);
    });

    it('sets status and headers from a response envelope, text for strings, 204 for nothing', async () => {
      const created = await get(s.port, '/created');
      assert.equal(created.status, 201);
      assert.equal(created.headers['x-thing'], 'yes');
      assert.deepEqual(JSON.parse(created.text), { id: 7 });
      const text = await get(s.port, '/text');
      assert.equal(text.text, 'plain text');
      assert.match(String(text.headers['content-type']), /^text\/plain/);
      assert.equal((await get(s.port, '/nothing')).status, 204);
    });

    it('answers 500 with a short body when the handler throws, and logs the error', async () => {
      const res = await get(s.port, '/boom');
      assert.equal(res.status, 500);
      assert.ok(res.text.length < 200);
      assert.doesNotMatch(res.text, /secret detail/);
      const logged = await waitFor('the error line on stderr', () => s.stderr.find((l) => l.includes('boom: secret detail')));
      assert.equal((JSON.parse(logged) as { level: string }).level, 'error');
      assert.equal((await get(s.port, '/after')).status, 200, 'the runtime keeps serving');
    });
  });

  describe('a raw handler', () => {
    let s: Started;
    void before(async () => (s = await start('raw.mjs')));
    void after(async () => {
      s.child.kill('SIGTERM');
      await s.exited;
    });

    it('streams its own response', async () => {
      const res = await get(s.port, '/stream');
      assert.equal(res.status, 200);
      assert.equal(res.text, 'chunk0\nchunk1\nchunk2\n');
    });

    it('answers 500 when it throws or rejects before responding', async () => {
      assert.equal((await get(s.port, '/boom')).status, 500);
      assert.equal((await get(s.port, '/async-boom')).status, 500);
    });
  });

  it('exits 1 with a clear message when the module has no handler', async () => {
    const s = launch('empty.mjs');
    assert.deepEqual(await s.exited, { code: 1, signal: null });
    assert.match(s.stderr.join('\n'), /exports neither a default function nor raw/);
  });

  describe('on SIGTERM', () => {
    it('finishes the request in flight, refuses new connections, then exits 0', async () => {
      const s = await start('echo.mjs');
      const slow = get(s.port, '/slow?ms=400');
      await waitFor('the slow request to start', () => s.stdout.some((l) => l.msg === 'slow request started'));
      s.child.kill('SIGTERM');
      await waitFor('draining', () => s.stdout.some((l) => l.msg === 'draining'));
      await assert.rejects(get(s.port, '/'), /ECONNREFUSED/);
      const res = await slow;
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(res.text), { slept: true });
      assert.deepEqual(await s.exited, { code: 0, signal: null });
      assert.ok(s.stdout.some((l) => l.msg === 'drained'));
    });

    it('drains on SIGINT too, unless a platform that drains it itself started it', async () => {
      const alone = await start('echo.mjs');
      alone.child.kill('SIGINT');
      assert.deepEqual(await alone.exited, { code: 0, signal: null });

      const managed = await start('echo.mjs', { KFN_PARENT_PID: String(process.pid) });
      managed.child.kill('SIGINT');
      assert.equal((await get(managed.port, '/')).status, 200, 'still serving after SIGINT');
      managed.child.kill('SIGTERM');
      assert.deepEqual(await managed.exited, { code: 0, signal: null });
    });

    it('gives up on requests after KFN_DRAIN_TIMEOUT_MS', async () => {
      const s = await start('echo.mjs', { KFN_DRAIN_TIMEOUT_MS: '100' });
      const slow = get(s.port, '/slow?ms=30000').catch((err: unknown) => err);
      await waitFor('the slow request to start', () => s.stdout.some((l) => l.msg === 'slow request started'));
      s.child.kill('SIGTERM');
      assert.deepEqual(await s.exited, { code: 1, signal: null });
      assert.ok((await slow) instanceof Error, 'the abandoned request fails');
    });

    it('exits at once on a second SIGTERM', async () => {
      const s = await start('echo.mjs');
      const slow = get(s.port, '/slow?ms=30000').catch((err: unknown) => err);
      await waitFor('the slow request to start', () => s.stdout.some((l) => l.msg === 'slow request started'));
      s.child.kill('SIGTERM');
      await waitFor('draining', () => s.stdout.some((l) => l.msg === 'draining'));
      s.child.kill('SIGTERM');
      assert.deepEqual(await s.exited, { code: 1, signal: null });
      await slow;
    });
  });
});
