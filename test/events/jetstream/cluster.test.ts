// kfn's stream on a three-server JetStream cluster (config/components/nats-cluster): three
// real nats-server processes routed on loopback ports. The stream is made through the
// controller's real path (NatsTriggerJetStream with streamReplicas 3), events go in and
// out, the server leading the stream is killed, and events are still accepted and
// delivered by the two that are left.
import { accepts, freePort } from '../../util/net.js';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AckPolicy, connect, DeliverPolicy, StorageType, type NatsConnection } from 'nats';
import { ensureStream, streamInfo } from '../../../pkg/events/jetstream/stream.js';
import { NatsTriggerJetStream } from '../../../pkg/reconciler/trigger/jetstream.js';
import { quietLogger } from '../../../pkg/shared/log.js';
import { waitFor } from '../../util/wait.js';

const installed = spawnSync('nats-server', ['--version']).status === 0;

interface Member {
  name: string;
  port: number;
  clusterPort: number;
  child: ChildProcess | undefined;
  stderr: string;
  file: string;
}

/** The cluster block of the component's nats.conf, on loopback ports. */
function conf(m: Member, all: Member[], dir: string): string {
  return [
    `server_name: ${m.name}`,
    `listen: 127.0.0.1:${m.port}`,
    `max_payload: 1114112`,
    `jetstream { store_dir: "${join(dir, m.name)}" }`,
    `cluster {`,
    `  name: kfn`,
    `  listen: 127.0.0.1:${m.clusterPort}`,
    `  routes: [`,
    ...all.map((o) => `    nats-route://127.0.0.1:${o.clusterPort}`),
    `  ]`,
    `}`,
  ].join('\n');
}

function launch(m: Member): void {
  m.stderr = '';
  const child = spawn('nats-server', ['--config', m.file], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (c: Buffer) => {
    m.stderr = (m.stderr + c.toString()).slice(-4000);
  });
  m.child = child;
}

async function kill(m: Member): Promise<void> {
  const child = m.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

describe('kfn stream with replicas 3 on a three-server JetStream cluster', { skip: !installed && 'nats-server is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kfn-nats-cluster-'));
  const members: Member[] = [];
  let nc: NatsConnection;
  let trigger: NatsTriggerJetStream;

  before(async () => {
    for (const name of ['nats-0', 'nats-1', 'nats-2']) members.push({ name, port: await freePort(), clusterPort: await freePort(), child: undefined, stderr: '', file: join(dir, `${name}.conf`) });
    for (const m of members) {
      writeFileSync(m.file, conf(m, members, dir));
      launch(m);
    }
    for (const m of members) await waitFor(`${m.name} accepts clients`, async () => (await accepts(m.port)) || (m.child?.exitCode !== null ? Promise.reject(new Error(m.stderr)) : false), { timeoutMs: 20_000 });
    const servers = members.map((m) => `nats://127.0.0.1:${m.port}`);
    nc = await connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    // JetStream answers only once the three have elected a meta leader.
    await waitFor('the JetStream meta leader', () => nc.jetstreamManager({ timeout: 1000 }).then(() => true, () => false), { timeoutMs: 30_000, intervalMs: 200 });
    trigger = new NatsTriggerJetStream({ servers: servers.join(','), log: quietLogger(), duplicateWindowMs: 120_000, defaultStream: 'KFN', streamReplicas: 3 });
  });

  after(async () => {
    await trigger?.close();
    await nc?.close();
    for (const m of members) await kill(m);
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the stream with 3 replicas, and events are accepted and delivered after the stream leader is killed', async () => {
    await waitFor('the stream made through the controller path', () => trigger.syncStream('KFN', ['orders.>']).then(() => true, () => false), { timeoutMs: 30_000, intervalMs: 200 });
    const info = await waitFor('all three replicas current', async () => {
      const i = await streamInfo(nc, 'KFN');
      return i?.cluster?.leader && (i.cluster.replicas ?? []).filter((r) => r.current).length === 2 ? i : undefined;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    assert.equal(info.config.num_replicas, 3);
    assert.equal(info.config.storage, StorageType.File);

    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    await jsm.consumers.add('KFN', { durable_name: 'orders-fn', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, filter_subject: 'orders.>' });
    const consumer = await js.consumers.get('KFN', 'orders-fn');
    await js.publish('orders.created', 'before', { msgID: 'e-1' });
    const first = await consumer.next({ expires: 5000 });
    assert.equal(first?.string(), 'before');
    first?.ack();

    const leader = members.find((m) => m.name === info.cluster?.leader);
    assert.ok(leader, `the stream leader ${String(info.cluster?.leader)} is one of ours`);
    await kill(leader);

    // A new stream leader is elected among the two left; until then publishes time out.
    const ack = await waitFor('a publish accepted with one server down', () => js.publish('orders.created', 'after', { msgID: 'e-2', timeout: 2000 }).catch(() => undefined), { timeoutMs: 30_000, intervalMs: 200 });
    assert.equal(ack.duplicate, false);
    const got = await waitFor('the event delivered with one server down', async () => {
      const m = await consumer.next({ expires: 2000 }).catch(() => null);
      if (m) m.ack();
      return m?.string() ?? undefined;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    assert.equal(got, 'after');
    const now = await streamInfo(nc, 'KFN');
    assert.notEqual(now?.cluster?.leader, leader.name);
    assert.equal(now?.state.messages, 2);
  });

  it('moves an existing one-replica stream of kfn’s to 3 replicas once the killed server is back', async () => {
    for (const m of members.filter((x) => x.child?.exitCode !== null || x.child.signalCode !== null)) {
      launch(m);
      await waitFor(`${m.name} back`, () => accepts(m.port), { timeoutMs: 20_000 });
    }
    // The restarted server rejoins and the meta group may elect again: JetStream answers after that.
    const jsm = await waitFor('JetStream answering with all three back', () => nc.jetstreamManager({ timeout: 1000 }).catch(() => undefined), { timeoutMs: 30_000, intervalMs: 200 });
    const spec = { name: 'KFN_OLD', subjects: ['old.>'], duplicateWindowMs: 120_000 };
    await waitFor('a one-replica stream made', () => ensureStream(jsm, { ...spec, replicas: 1 }).then(() => true, () => false), { timeoutMs: 30_000, intervalMs: 200 });
    assert.equal((await streamInfo(nc, 'KFN_OLD'))?.config.num_replicas, 1);
    await waitFor('updated to 3 replicas', () => ensureStream(jsm, { ...spec, replicas: 3 }).then(() => true, () => false), { timeoutMs: 30_000, intervalMs: 200 });
    assert.equal((await streamInfo(nc, 'KFN_OLD'))?.config.num_replicas, 3);
  });

  it('refuses a replica count JetStream cannot have, naming it', async () => {
    const jsm = await nc.jetstreamManager();
    await assert.rejects(ensureStream(jsm, { name: 'KFN_BAD', subjects: ['bad.>'], duplicateWindowMs: 1000, replicas: 7 }), /replicas: want a whole number from 1 to 5, got 7/);
    await assert.rejects(ensureStream(jsm, { name: 'KFN_BAD', subjects: ['bad.>'], duplicateWindowMs: 1000, replicas: 0 }), /replicas/);
  });
});
