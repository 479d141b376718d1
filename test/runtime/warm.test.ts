// The warm runtime: the assignment the platform sends a waiting kfn-node-runtime, and the
// port it holds while it waits.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAssignment, servesOnReserved } from '../../pkg/runtime/warm.js';
import { waitFor } from '../util/wait.js';

describe('parseAssignment', () => {
  it('takes args, cwd and env', () => {
    assert.deepEqual(parseAssignment('{"args":["handler.js"],"cwd":"/srv/fn","env":{"PORT":"8080"}}'), {
      args: ['handler.js'],
      cwd: '/srv/fn',
      env: { PORT: '8080' },
    });
  });
  const bad: { name: string; line: string; want: RegExp }[] = [
    { name: 'not JSON', line: 'handler.js', want: /JSON/ },
    { name: 'not an object', line: '"handler.js"', want: /want a JSON object/ },
    { name: 'no handler module', line: '{"args":[],"cwd":"/","env":{}}', want: /args must name the handler module/ },
    { name: 'args not strings', line: '{"args":[1],"cwd":"/","env":{}}', want: /args/ },
    { name: 'no cwd', line: '{"args":["h.js"],"env":{}}', want: /cwd must be a folder/ },
    { name: 'env values not strings', line: '{"args":["h.js"],"cwd":"/","env":{"PORT":8080}}', want: /env must map names to strings/ },
    { name: 'env missing', line: '{"args":["h.js"],"cwd":"/"}', want: /env/ },
  ];
  for (const c of bad) {
    it(`refuses ${c.name}`, () => assert.throws(() => parseAssignment(c.line), c.want));
  }
});

describe('servesOnReserved', () => {
  const reserved = { port: 4100, host: '127.0.0.1' };
  const cases: { name: string; env: NodeJS.ProcessEnv; want: boolean }[] = [
    { name: 'same port and host', env: { PORT: '4100', KFN_HOST: '127.0.0.1' }, want: true },
    { name: 'another port', env: { PORT: '4101', KFN_HOST: '127.0.0.1' }, want: false },
    { name: 'another host', env: { PORT: '4100', KFN_HOST: '0.0.0.0' }, want: false },
    { name: 'no host: every address, not the one held', env: { PORT: '4100' }, want: false },
    { name: 'no port', env: { KFN_HOST: '127.0.0.1' }, want: false },
  ];
  for (const c of cases) it(`${c.name}: ${c.want}`, () => assert.equal(servesOnReserved(reserved, c.env), c.want));
  it('held on every address, serves a replica with no host', () => assert.equal(servesOnReserved({ port: 4100, host: '' }, { PORT: '4100' }), true));
});

describe('a warm runtime process', () => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  let dir: string;
  const children = new Set<ChildProcess>();

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kfn-warm-runtime-'));
    await writeFile(path.join(dir, 'hi.mjs'), `export default () => ({ hi: process.env.GREETING, port: process.env.PORT });\n`);
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  /** A runtime as the pool starts one, and its stdout lines as they come. */
  function warmRuntime(): { child: ChildProcess; lines: Array<Record<string, unknown>> } {
    const child = spawn(path.join(root, 'bin', 'kfn-node-runtime'), [], {
      cwd: os.tmpdir(),
      env: { PATH: process.env.PATH ?? '', KFN_RUNTIME_POOL: '1', KFN_HOST: '127.0.0.1' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.add(child);
    child.once('exit', () => children.delete(child));
    const lines: Array<Record<string, unknown>> = [];
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        lines.push(JSON.parse(out.slice(0, nl)) as Record<string, unknown>);
        out = out.slice(nl + 1);
      }
    });
    return { child, lines };
  }

  function assign(child: ChildProcess, port: number): void {
    child.stdin?.end(JSON.stringify({ args: ['hi.mjs'], cwd: dir, env: { PATH: process.env.PATH ?? '', GREETING: 'hello', PORT: String(port), KFN_HOST: '127.0.0.1' } }) + '\n');
  }

  function get(port: number): Promise<{ status: number; retryAfter: string | undefined; text: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], text }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('holds a port while it waits, answers 503 there, and serves the replica on it once assigned that port', async () => {
    const { child, lines } = warmRuntime();
    const warm = await waitFor('the warm line', () => lines.find((l) => l.msg === 'warm'), { timeoutMs: 10_000 });
    const port = warm.port as number;
    assert.ok(Number.isInteger(port) && port > 0, `warm line names its port: ${JSON.stringify(warm)}`);
    const early = await get(port);
    assert.equal(early.status, 503);
    assert.equal(early.retryAfter, '1');
    assign(child, port);
    const listening = await waitFor('the listening line', () => lines.find((l) => l.msg === 'listening'), { timeoutMs: 10_000 });
    assert.equal(listening.port, port);
    assert.equal(listening.warm, true);
    const served = await get(port);
    assert.equal(served.status, 200);
    assert.deepEqual(JSON.parse(served.text), { hi: 'hello', port: String(port) });
  });

  it('assigned another port, serves there and lets the one it held go', async () => {
    const { child, lines } = warmRuntime();
    const held = (await waitFor('the warm line', () => lines.find((l) => l.msg === 'warm'), { timeoutMs: 10_000 })).port as number;
    const other = await new Promise<number>((resolve) => {
      const s = createNetServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    assign(child, other);
    const listening = await waitFor('the listening line', () => lines.find((l) => l.msg === 'listening'), { timeoutMs: 10_000 });
    assert.equal(listening.port, other);
    assert.equal((await get(other)).status, 200);
    await assert.rejects(get(held), /ECONNREFUSED/);
  });
});
