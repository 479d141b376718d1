// KFN_HOME's lock: one kfn dev per folder. Real files and real processes: the lock is
// taken atomically, refused while a live kfn dev holds it (naming folder and pid), and
// taken over from a kfn dev that was killed (its pid gone, or reused by another program).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { HomeInUseError, isKfnDev, isKfnDevCommand, LOCK_FILE, lockHome } from '../../pkg/dev/lock.js';
import { alive } from '../util/process.js';
import { waitFor } from '../util/wait.js';

const children: ChildProcess[] = [];
const dirs: string[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function home(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kfn-lock-'));
  dirs.push(dir);
  return path.join(dir, 'home');
}

/** A long-running node process whose command line reads `node -e … <argv>`. */
async function idleProcess(...argv: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', ...argv], { stdio: 'ignore' });
  children.push(child);
  await waitFor('the process to run', () => child.pid !== undefined && alive(child.pid));
  return child;
}

/** A pid that was a process and is gone now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  assert.ok(child.pid);
  return child.pid;
}

describe('lockHome', () => {
  it('creates KFN_HOME and a lock holding this pid; release removes it', async () => {
    const h = await home();
    const lock = await lockHome(h);
    assert.equal(await readFile(path.join(h, LOCK_FILE), 'utf8'), `${process.pid}\n`);
    await lock.release();
    assert.deepEqual(await readdir(h), []);
  });

  it('refuses while a live kfn dev holds it, naming the folder and its pid, and leaves its lock alone', async () => {
    const h = await home();
    const running = await idleProcess('/opt/kfn/bin/kfn', 'dev', 'samples');
    const pid = running.pid ?? 0;
    assert.equal(await isKfnDev(pid), true, 'the stand-in reads as a kfn dev');
    await lockHome(h, { pid });
    await assert.rejects(lockHome(h), (err: unknown) => {
      assert.ok(err instanceof HomeInUseError);
      assert.ok(err.message.includes(h), err.message);
      assert.ok(err.message.includes(`pid ${pid}`), err.message);
      return true;
    });
    assert.equal(await readFile(path.join(h, LOCK_FILE), 'utf8'), `${pid}\n`);
    assert.deepEqual(await readdir(h), [LOCK_FILE], 'nothing else was written');
  });

  const stale: Array<{ name: string; holder: () => Promise<string> }> = [
    { name: 'its pid is gone', holder: async () => String(await deadPid()) },
    { name: 'its pid now runs another program', holder: async () => String((await idleProcess('not-kfn', 'dev')).pid) },
    { name: 'it holds no pid at all', holder: () => Promise.resolve('garbage') },
  ];
  for (const c of stale) {
    it(`takes over a stale lock: ${c.name}`, async () => {
      const h = await home();
      await lockHome(h, { pid: 1 << 22 }).then(async (l) => l.release());
      await writeFile(path.join(h, LOCK_FILE), `${await c.holder()}\n`);
      const lock = await lockHome(h);
      assert.equal(await readFile(path.join(h, LOCK_FILE), 'utf8'), `${process.pid}\n`);
      await lock.release();
    });
  }

  it('of several kfn dev starting at once over a stale lock, exactly one gets it', async () => {
    const h = await home();
    const stalePid = await deadPid();
    const contenders = [101, 102, 103, 104, 105, 106];
    // The contenders are alive; the stale holder is not.
    const isOwner = (pid: number): Promise<boolean> => Promise.resolve(contenders.includes(pid));
    for (let round = 0; round < 10; round++) {
      await rm(h, { recursive: true, force: true });
      await lockHome(h, { pid: stalePid, isOwner });
      const results = await Promise.allSettled(contenders.map((pid) => lockHome(h, { pid, isOwner })));
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1, `round ${round}: ${JSON.stringify(results.map((r) => r.status === 'rejected' && String(r.reason)))}`);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof HomeInUseError, String(r.reason));
      const holder = Number.parseInt(await readFile(path.join(h, LOCK_FILE), 'utf8'), 10);
      assert.ok(contenders.includes(holder));
      assert.deepEqual(await readdir(h), [LOCK_FILE], 'no file left aside');
    }
  });
});

describe('isKfnDevCommand', () => {
  const cases: Array<[string, string[], boolean]> = [
    ['kfn dev from the bin link', ['node', '/usr/local/bin/kfn', 'dev'], true],
    ['kfn dev as npm start runs it', ['node', 'dist/cmd/kfn/main.js', 'dev', 'samples'], true],
    ['kfn run straight', ['kfn', 'dev'], true],
    ['another kfn command', ['node', '/usr/local/bin/kfn', 'get'], false],
    ['another program named like it', ['node', '/usr/local/bin/kfnx', 'dev'], false],
    ['a zombie (empty command line)', [], false],
  ];
  for (const [name, argv, want] of cases) it(name, () => assert.equal(isKfnDevCommand(argv), want));
});
