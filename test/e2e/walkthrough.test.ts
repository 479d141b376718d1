// The README's walkthrough, run as written: its starting state is what kfn dev shows for
// samples/hello, and its load (the shell line, copied from the README) scales hello out.
// It once said hello starts at 0/0 while scale.initial defaulted to 1, and its load stayed
// on one replica (target 100); this keeps the text and the behaviour together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot, withDev } from '../util/dev.js';

async function walkthrough(): Promise<string> {
  const readme = await readFile(path.join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Walkthrough: scale from zero and back'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'the walkthrough has a shell block');
  return block;
}

test("the README walkthrough: hello starts at 0/0, and the walkthrough's load scales it out", { skip: process.platform === 'win32' }, async () => {
  const block = await walkthrough();
  assert.match(block, /^# default\s+hello\s+\S+\s+True\s+0\/0\s/m, 'the README says hello starts ready at zero');
  const load = /^for i in \$\(seq \d+\).*$/m.exec(block)?.[0];
  assert.ok(load, 'the walkthrough has its load line');
  const claimed = Number(/REPLICAS climbs to about (\d+)\/\1/.exec(block)?.[1]);
  assert.ok(claimed >= 3, 'the README says hello scales out');

  const sample = await readFile(path.join(repoRoot, 'samples', 'hello', 'function.yaml'), 'utf8');
  // Default autoscaler settings, as `npm start` runs.
  await withDev({ 'function.yaml': sample }, [], async (dev) => {
    const listed = await dev.kfn('get');
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^default\s+hello\s+\S+\s+True\s+0\/0\s/m, listed.stdout);

    const command = load.replaceAll('http://127.0.0.1:8080', dev.activator);
    assert.notEqual(command, load, 'the load line calls the activator at 127.0.0.1:8080');
    // Its own process group, so every curl loop it leaves running in the background stops with it.
    const shell = spawn('bash', ['-c', command], { detached: true, stdio: 'ignore' });
    const group = shell.pid;
    assert.ok(group);
    try {
      // At least claimed - 2: on a busy machine curl is slow to start, and fewer are in flight.
      const scaled = await dev.waitStatus(`hello to scale out to ${claimed - 2}+ ready replicas`, 'hello', (fn) => (fn.status?.readyReplicas ?? 0) >= claimed - 2, 90_000);
      assert.ok((scaled.status?.desiredReplicas ?? 0) >= claimed - 2);
    } finally {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // every loop already ended
      }
    }
  });
});
