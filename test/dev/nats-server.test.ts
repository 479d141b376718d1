// The nats-server kfn dev starts for itself: JetStream with its store in the state
// folder, a leftover server of a killed kfn dev stopped before a new one takes the store,
// a clear error naming the fix when the binary is missing, and supervision: restarted on
// the same port and store when it exits, with backoff while it keeps dying.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from 'nats';
import { nextRestart, NatsServerMissingError, RESTART_BACKOFF, STABLE_UPTIME_MS, startEmbeddedNats, type EmbeddedNats, type NatsServerState } from '../../pkg/dev/nats-server.js';
import { freePort } from '../../pkg/platform/local/ports.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { alive } from '../util/process.js';
import { waitFor } from '../util/wait.js';

const NATS_BIN = '/usr/sbin/nats-server';

describe('nextRestart', () => {
  const cases: Array<{ name: string; failures: number; uptimeMs: number; want: { attempt: number; delayMs: number } }> = [
    { name: 'first exit after a short run: first step', failures: 0, uptimeMs: 10, want: { attempt: 1, delayMs: 250 } },
    { name: 'third exit in a row: 1 s', failures: 2, uptimeMs: 10, want: { attempt: 3, delayMs: 1000 } },
    { name: 'dies at every start: capped at 10 s', failures: 20, uptimeMs: 0, want: { attempt: 21, delayMs: 10_000 } },
    { name: 'ran long enough before dying: back to the first step', failures: 20, uptimeMs: STABLE_UPTIME_MS, want: { attempt: 1, delayMs: 250 } },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(nextRestart(RESTART_BACKOFF, c.failures, c.uptimeMs), c.want));
  }
});

describe('startEmbeddedNats', () => {
  const started: EmbeddedNats[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const s of started) await s.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const tempDir = async (): Promise<string> => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kfn-nats-dev-'));
    dirs.push(dir);
    return dir;
  };

  it('runs JetStream with its store in the given folder, and a second start replaces a leftover server', async () => {
    const dir = await tempDir();
    // As if kfn dev had been SIGKILLed: its nats-server still runs on the store, and
    // nobody supervises it any more.
    await mkdir(path.join(dir, 'jetstream'), { recursive: true });
    const port = await freePort('127.0.0.1');
    const leftover = spawn(NATS_BIN, ['--jetstream', '--store_dir', path.join(dir, 'jetstream'), '--addr', '127.0.0.1', '--port', String(port), '--pid', path.join(dir, 'nats-server.pid')], { stdio: 'ignore' });
    const leftoverPid = leftover.pid;
    assert.ok(leftoverPid);
    const nc = await waitFor('the leftover server', () => connect({ servers: `nats://127.0.0.1:${port}` }).catch(() => undefined));
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'KEEP', subjects: ['keep.>'] });
    await nc.jetstream().publish('keep.one', new TextEncoder().encode('1'));
    await nc.close();
    await waitFor('the pid file', () => readFile(path.join(dir, 'nats-server.pid'), 'utf8').catch(() => undefined));

    const second = await startEmbeddedNats({ dir, host: '127.0.0.1', log: quietLogger() });
    started.push(second);
    await waitFor('the leftover server to be gone', () => !alive(leftoverPid));
    const nc2 = await connect({ servers: second.url });
    const info = await (await nc2.jetstreamManager()).streams.info('KEEP');
    assert.equal(info.state.messages, 1, 'the store survived the replacement');
    await nc2.close();
  });

  it('restarts a SIGKILLed server on the same port with the same store, and a client reconnects to it', async () => {
    const dir = await tempDir();
    const server = await startEmbeddedNats({ dir, host: '127.0.0.1', log: quietLogger() });
    started.push(server);
    const states: NatsServerState[] = [];
    server.onState((s) => states.push(s));
    const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: 'KEEP', subjects: ['keep.>'] });
      const ack = await nc.jetstream().publish('keep.one', new TextEncoder().encode('acked before the kill'));
      const pid = server.pid;
      assert.ok(pid);

      process.kill(pid, 'SIGKILL');
      const newPid = await waitFor('a new nats-server', () => (server.pid !== undefined && server.pid !== pid ? server.pid : undefined));
      assert.ok(alive(newPid));
      assert.equal(states[0]?.type, 'restarting');
      assert.match(states[0]?.type === 'restarting' ? states[0].exit : '', /SIGKILL/);
      assert.deepEqual(states.at(-1), { type: 'running', pid: newPid });

      // The same client, on the same URL, finds the message JetStream had acknowledged.
      const msg = await waitFor('the stored message through the reconnected client', async () => (await nc.jetstreamManager()).streams.getMessage('KEEP', { seq: ack.seq }).catch(() => undefined), {
        timeoutMs: 10_000,
      });
      assert.equal(new TextDecoder().decode(msg.data), 'acked before the kill');
    } finally {
      await nc.close();
    }
  });

  it('backs off while the server keeps dying at start, says so in its state, and comes back when it can', async () => {
    const dir = await tempDir();
    // Real nats-server on the 1st launch and from the 4th on; launches 2 and 3 fail at once.
    const bin = path.join(dir, 'flaky-nats-server');
    const count = path.join(dir, 'launches');
    await writeFile(
      bin,
      `#!/bin/sh\nn=$(cat '${count}' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '${count}'\n` +
        `if [ $n -eq 2 ] || [ $n -eq 3 ]; then echo "launch $n: broken on purpose" >&2; exit 3; fi\nexec ${NATS_BIN} "$@"\n`,
    );
    await chmod(bin, 0o755);
    const server = await startEmbeddedNats({ dir, host: '127.0.0.1', log: quietLogger(), bin, restartBackoff: { kind: 'exponential', baseMs: 50, maxMs: 1000 } });
    started.push(server);
    const states: NatsServerState[] = [];
    server.onState((s) => states.push(s));
    const pid = server.pid;
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    await waitFor('the server to be back', () => server.state.type === 'running' && server.pid !== pid, { timeoutMs: 15_000 });
    const restarting = states.filter((s) => s.type === 'restarting');
    assert.deepEqual(
      restarting.map((s) => [s.attempt, s.retryInMs]),
      [
        [1, 50],
        [2, 100],
        [3, 200],
      ],
      'each failed start doubles the wait',
    );
    assert.match(restarting[1]?.exit ?? '', /broken on purpose/, 'the state carries why it failed');
    const nc = await connect({ servers: server.url });
    await nc.close();
  });

  it('stop() ends the server and no restart follows', async () => {
    const dir = await tempDir();
    const server = await startEmbeddedNats({ dir, host: '127.0.0.1', log: quietLogger() });
    const pid = server.pid;
    assert.ok(pid);
    await server.stop();
    assert.equal(alive(pid), false);
    assert.deepEqual(server.state, { type: 'stopped' });
  });

  it('names the install command when the binary is missing', async () => {
    const dir = await tempDir();
    await assert.rejects(
      startEmbeddedNats({ dir, host: '127.0.0.1', log: quietLogger(), bin: path.join(dir, 'no-such-nats-server') }),
      (err: unknown) => err instanceof NatsServerMissingError && /apt-get install nats-server/.test(err.message) && /NATS_URL/.test(err.message),
    );
  });
});
