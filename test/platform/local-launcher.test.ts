// The launcher that starts the local platform's processes, with real processes: replicas
// are its children, not the platform's (no fork of the platform per replica), they run in
// a session of their own, and nothing outlives a platform killed without cleaning up,
// whatever the replica runs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { KfnFunction } from '../../pkg/apis/function/types.js';
import type { FunctionKey } from '../../pkg/apis/meta.js';
import { LocalPlatform } from '../../pkg/platform/local/index.js';
import { LOCAL_DIR_ANNOTATION } from '../../pkg/platform/local/launch.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { alive } from '../util/process.js';
import { waitFor } from '../util/wait.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const helloDir = path.join(root, 'samples', 'hello');
const key: FunctionKey = { namespace: 'default', name: 'plain' };

/** A replica that is not kfn-node-runtime: it knows nothing of its parent and would live on as an orphan. */
const PLAIN_SERVER = `require('node:http').createServer((q, s) => s.end('{}')).listen(Number(process.env.PORT), '127.0.0.1');`;

function plain(): KfnFunction {
  return {
    apiVersion: 'kfn.dev/v1alpha1',
    kind: 'Function',
    metadata: { name: key.name, namespace: key.namespace, annotations: { [LOCAL_DIR_ANNOTATION]: helloDir } },
    spec: { image: 'plain', command: [process.execPath, '-e', PLAIN_SERVER] },
  };
}

/** Fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, session, ...]. */
function stat(pid: number): { ppid: number; session: number } {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(fields[1]), session: Number(fields[3]) };
}

const open = new Set<LocalPlatform>();
void afterEach(async () => {
  for (const p of open) await p.close();
  open.clear();
});

describe('the local platform launcher', { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
  it('starts replicas as children of the launcher, in a session of their own, never of the platform process', async () => {
    const platform = new LocalPlatform({ log: quietLogger(), runtimeBinDir: path.join(root, 'bin'), options: { drainTimeoutMs: 5000, warmRuntimes: 1 } });
    open.add(platform);
    await platform.applyFunction(plain());
    await platform.setScale(key, 2);
    const pids = await waitFor('2 ready replicas', () => {
      const rs = platform.describe(key)?.replicas ?? [];
      return rs.length === 2 && rs.every((r) => r.state === 'ready') ? rs.map((r) => r.pid) : undefined;
    });
    const warm = await waitFor('a warm runtime', () => platform.warmRuntimes()[0]?.pid);
    for (const pid of [...pids, warm]) {
      assert.ok(pid);
      const s = stat(pid);
      assert.notEqual(s.ppid, process.pid, `process ${pid} was forked by the platform process`);
      assert.notEqual(s.session, stat(process.pid).session, `process ${pid} shares the platform's session (and so its CPU share)`);
    }
    assert.equal(new Set([...pids, warm].map((p) => stat(p ?? 0).ppid)).size, 1, 'one launcher started them all');
  });

  it('if the launcher dies, its replicas go with it and are started again through a new one', async () => {
    const platform = new LocalPlatform({
      log: quietLogger(),
      runtimeBinDir: path.join(root, 'bin'),
      options: { drainTimeoutMs: 5000, restartBackoff: { kind: 'linear', baseMs: 50, maxMs: 50 } },
    });
    open.add(platform);
    await platform.applyFunction(plain());
    await platform.setScale(key, 1);
    const ready = (): number | undefined => {
      const [r] = platform.describe(key)?.replicas ?? [];
      return r?.state === 'ready' ? r.pid : undefined;
    };
    const before = await waitFor('a ready replica', ready);
    const launcher = stat(before).ppid;
    process.kill(launcher, 'SIGKILL');
    const after = await waitFor('a ready replacement', () => {
      const pid = ready();
      return pid !== undefined && pid !== before ? pid : undefined;
    });
    assert.notEqual(stat(after).ppid, launcher, 'started by a new launcher');
    await waitFor('the old replica to be gone', () => !alive(before));
    assert.equal(platform.workloadStatus(key)?.restarts, 1);
  });

  it('a replica that knows nothing of kfn exits when the platform process is SIGKILLed', async () => {
    const script = `
      import { LocalPlatform } from ${JSON.stringify(new URL('../../pkg/platform/local/index.js', import.meta.url).href)};
      import { quietLogger } from ${JSON.stringify(new URL('../../pkg/shared/log.js', import.meta.url).href)};
      const fn = JSON.parse(process.argv[1]);
      const p = new LocalPlatform({ log: quietLogger(), runtimeBinDir: ${JSON.stringify(path.join(root, 'bin'))} });
      p.watchEndpoints((u) => { if (u.endpoints.length > 0) console.log(JSON.stringify(p.describe(u.key).replicas.map((r) => r.pid))); });
      await p.applyFunction(fn);
      await p.setScale(${JSON.stringify(key)}, 1);
    `;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(plain())], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    parent.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    const [replicaPid] = await waitFor('the replica pid', () => (out.includes('\n') ? (JSON.parse(out.split('\n')[0] ?? '[]') as number[]) : undefined));
    assert.ok(replicaPid && alive(replicaPid));
    const parentGone = new Promise((resolve) => parent.once('exit', resolve));
    parent.kill('SIGKILL');
    await parentGone;
    await waitFor('the orphaned replica to exit', () => !alive(replicaPid), { timeoutMs: 15_000 });
  });
});
