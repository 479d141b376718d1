// The nats-server kfn dev starts for itself: JetStream with its store in the state
// folder, a leftover server of a killed kfn dev stopped before a new one takes the store,
// and a clear error naming the fix when the binary is missing.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from 'nats';
import { NatsServerMissingError, startEmbeddedNats, type EmbeddedNats } from '../../pkg/dev/nats-server.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { alive } from '../util/process.js';
import { waitFor } from '../util/wait.js';


describe('startEmbeddedNats', () => {
  const started: EmbeddedNats[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const s of started) await s.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('runs JetStream with its store in the given folder, and a second start replaces a leftover server', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kfn-nats-dev-'));
    dirs.push(dir);
    const first = await startEmbeddedNats({ dir, host: '127.0.0.1', log: quietLogger() });
    started.push(first);
    const nc = await connect({ servers: first.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'KEEP', subjects: ['keep.>'] });
    await nc.jetstream().publish('keep.one', new TextEncoder().encode('1'));
    await nc.close();

    // As if kfn dev had been SIGKILLed: the first server still runs on the store.
    const second = await startEmbeddedNats({ dir, host: '127.0.0.1', log: quietLogger() });
    started.push(second);
    await waitFor('the leftover server to be gone', () => !alive(first.pid));
    const nc2 = await connect({ servers: second.url });
    const info = await (await nc2.jetstreamManager()).streams.info('KEEP');
    assert.equal(info.state.messages, 1, 'the store survived the replacement');
    await nc2.close();
  });

  it('names the install command when the binary is missing', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kfn-nats-dev-'));
    dirs.push(dir);
    await assert.rejects(
      startEmbeddedNats({ dir, host: '127.0.0.1', log: quietLogger(), bin: path.join(dir, 'no-such-nats-server') }),
      (err: unknown) => err instanceof NatsServerMissingError && /apt-get install nats-server/.test(err.message) && /NATS_URL/.test(err.message),
    );
  });
});
