// `npm run build` (what `npm start` and `npm test` run first) while a `kfn dev` from the same
// checkout runs: the build used to delete dist/ and write it again, under the running kfn
// dev (the CLI failed with a stack trace, replicas restarting meanwhile crash-looped). Here a
// scratch checkout (this one's sources, its node_modules) is built, a kfn dev started from
// it, and the build run again while a replica is killed and the CLI is used.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { runProcess } from '../util/process.js';
import { waitFor } from '../util/wait.js';

// From test/scripts/ under tsx, from <build>/test/scripts/ once built.
const root = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../..' : '../../..', import.meta.url));

/** `npm run build` as the user runs it, with the node running this test first on PATH. */
function npmBuild(checkout: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return runProcess('npm', ['run', '-s', 'build'], { cwd: checkout, env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` } });
}

async function builds(checkout: string): Promise<string[]> {
  return (await readdir(checkout)).filter((n) => n.startsWith('dist.build-')).sort();
}

async function get(url: string): Promise<{ status: number; replica: number }> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return { status: res.status, replica: Number(res.headers.get('x-kfn-replica') ?? 0) };
}

describe('npm run build while kfn dev runs from the same checkout', () => {
  let scratch: string;
  let checkout: string;
  let dev: ChildProcess | undefined;
  let devOut = '';

  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'kfn-build-swap-'));
    checkout = path.join(scratch, 'checkout');
    await mkdir(checkout);
    // What the build and kfn dev need; tests and benchmarks left out to keep the build short.
    for (const entry of ['cmd', 'pkg', 'bin', 'scripts', 'samples', 'package.json', '.node-version']) {
      await cp(path.join(root, entry), path.join(checkout, entry), { recursive: true });
    }
    const tsconfig = JSON.parse(await readFile(path.join(root, 'tsconfig.json'), 'utf8')) as { include: string[] };
    tsconfig.include = ['cmd/**/*.ts', 'pkg/**/*.ts'];
    await writeFile(path.join(checkout, 'tsconfig.json'), JSON.stringify(tsconfig));
    await symlink(path.join(root, 'node_modules'), path.join(checkout, 'node_modules'));
  });

  after(async () => {
    if (dev && dev.exitCode === null) {
      dev.kill('SIGKILL');
      await new Promise((r) => dev?.once('exit', r));
    }
    await rm(scratch, { recursive: true, force: true });
  });

  it('keeps the running kfn dev, its CLI and replica restarts working, and the build it runs', async () => {
    const first = await npmBuild(checkout);
    assert.equal(first.code, 0, first.stderr);
    const firstBuild = await readlink(path.join(checkout, 'dist'));
    assert.match(firstBuild, /^dist\.build-/, 'dist is a symlink to a build beside it');

    const fnDir = path.join(scratch, 'fns');
    await mkdir(fnDir);
    await cp(path.join(root, 'samples', 'hello', 'handler.js'), path.join(fnDir, 'handler.js'));
    await writeFile(
      path.join(fnDir, 'hello.yaml'),
      'apiVersion: kfn.dev/v1alpha1\nkind: Function\nmetadata: {name: hello}\nspec: {image: kfn/hello, command: [kfn-node-runtime], args: [handler.js], scale: {min: 1}}\n',
    );
    const home = path.join(scratch, 'home');
    const env = { ...process.env, KFN_HOME: home };
    dev = spawn(process.execPath, [path.join(checkout, 'bin', 'kfn'), 'dev', fnDir, '--port', '0', '--admin-port', '0', '--events-port', '0', '--warm-runtimes', '0'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    dev.stdout?.on('data', (d: Buffer) => (devOut += d.toString()));
    dev.stderr?.on('data', (d: Buffer) => (devOut += d.toString()));
    const state = await waitFor('kfn dev to start', async () => {
      if (dev?.exitCode !== null) throw new Error(`kfn dev exited:\n${devOut}`);
      const text = await readFile(path.join(home, 'dev.json'), 'utf8').catch(() => undefined);
      return text === undefined ? undefined : (JSON.parse(text) as { activator: string; admin: string });
    }, { timeoutMs: 30_000 });
    const url = `${state.activator}/default/hello/`;
    const kfn = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
      runProcess(process.execPath, [path.join(checkout, 'bin', 'kfn'), ...args], { env: { ...env, KFN_ADMIN: state.admin } });

    const before = await waitFor('a replica to answer', async () => {
      const r = await get(url).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    }, { timeoutMs: 30_000 });
    assert.ok(existsSync(path.join(checkout, firstBuild, '.kfn-dev', String(dev.pid))), 'kfn dev claimed the build it runs');

    // The build again, and meanwhile: the replica dies (so it restarts during the build),
    // requests keep coming, and the CLI is used.
    let building = true;
    const second = npmBuild(checkout).finally(() => (building = false));
    process.kill(before.replica, 'SIGKILL');
    // Between the kill and the platform noticing, a request may meet the dead replica
    // (503): that is the activator's business, not the build's. What matters here is that
    // the replacement starts while the build runs.
    const during = await waitFor('a replacement replica to answer while the build runs', async () => {
      if (!building) throw new Error('the build ended before a replacement replica answered');
      const r = await get(url).catch(() => undefined);
      return r?.status === 200 && r.replica !== before.replica ? r : undefined;
    }, { timeoutMs: 120_000, intervalMs: 20 });
    const statuses = new Map<number, number>();
    const cli: Array<{ code: number; stderr: string }> = [];
    while (building) {
      const r = await get(url).catch(() => ({ status: 0, replica: 0 }));
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      cli.push(await kfn('get'));
    }
    const built = await second;
    assert.equal(built.code, 0, built.stderr);
    assert.deepEqual([...statuses.keys()], [200], `every request during the build answered 200: ${JSON.stringify([...statuses])}`);
    for (const c of cli) assert.equal(c.code, 0, `kfn get during the build: ${c.stderr}`);
    assert.ok(cli.length > 0);

    const secondBuild = await readlink(path.join(checkout, 'dist'));
    assert.notEqual(secondBuild, firstBuild);

    // A replica restarted after the swap still starts, on the build kfn dev runs.
    process.kill(during.replica, 'SIGKILL');
    const restarted = await waitFor('a new replica after the build', async () => {
      const r = await get(url).catch(() => undefined);
      return r?.status === 200 && r.replica !== during.replica ? r : undefined;
    }, { timeoutMs: 30_000 });
    const environ = await readFile(`/proc/${restarted.replica}/environ`, 'utf8').catch(() => '');
    if (environ) assert.ok(environ.includes(`KFN_RUNTIME_MAIN=${path.join(checkout, firstBuild, 'pkg', 'runtime', 'main.js')}`), 'the replica runs the build of its kfn dev');

    // A third build removes nothing in use: the claimed first one and the one dist pointed at.
    const third = await npmBuild(checkout);
    assert.equal(third.code, 0, third.stderr);
    const left = await builds(checkout);
    assert.ok(left.includes(firstBuild), `the build kfn dev runs is kept: ${left.join(', ')}`);
    assert.ok(left.includes(secondBuild), 'the previous build is kept');
    assert.equal(left.length, 3);
    assert.equal((await get(url)).status, 200);
    assert.doesNotMatch(devOut, /ERR_MODULE_NOT_FOUND|Cannot find module/);

    dev.kill('SIGTERM');
    await new Promise((r) => dev?.once('exit', r));
    assert.equal(existsSync(path.join(checkout, firstBuild, '.kfn-dev', String(dev.pid))), false, 'the claim goes with kfn dev');
    // Nothing holds the first build any more: the next build removes it.
    const fourth = await npmBuild(checkout);
    assert.equal(fourth.code, 0, fourth.stderr);
    assert.ok(!(await builds(checkout)).includes(firstBuild));
  });
});
