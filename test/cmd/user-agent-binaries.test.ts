// Each component binary, run as a real process against its own recording HTTP server on
// port 0 standing in for the API server, sends `kfn-<component>/<version> …` on every
// request it makes: the wiring from main.ts, not only the KubeConfig class
// (user-agent.test.ts), is what audit logs and managedFields see.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { userAgent } from '../../pkg/shared/user-agent.js';
import { startNatsServer, type NatsServer } from '../util/nats.js';
import { waitFor } from '../util/wait.js';

const fromSource = import.meta.url.endsWith('.ts');

interface Recorder {
  server: Server;
  url: string;
  userAgents: Array<string | undefined>;
}

/** Lists are empty, watches stay open, anything else gets an empty object. */
async function recorder(): Promise<Recorder> {
  const userAgents: Array<string | undefined> = [];
  const server = createServer((req, res) => {
    userAgents.push(req.headers['user-agent']);
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    if (new URL(req.url ?? '/', 'http://x').searchParams.get('watch') === 'true') {
      res.flushHeaders();
      return;
    }
    res.end(JSON.stringify(req.method === 'GET' ? { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] } : {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, userAgents };
}

describe('component binaries name themselves to the API server', () => {
  let nats: NatsServer;
  let dir: string;
  before(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(path.join(tmpdir(), 'kfn-ua-'));
  });
  after(async () => {
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('activator, autoscaler, controller and dispatcher send kfn-<component>/<version> on every request', async () => {
    const components = ['activator', 'autoscaler', 'controller', 'dispatcher'];
    const recorders = await Promise.all(components.map(() => recorder()));
    const children: ChildProcess[] = [];
    try {
      for (const [i, component] of components.entries()) {
        const rec = recorders[i];
        assert.ok(rec);
        const kubeconfig = path.join(dir, `${component}.yaml`);
        await writeFile(
          kubeconfig,
          JSON.stringify({
            apiVersion: 'v1',
            kind: 'Config',
            clusters: [{ name: 'c', cluster: { server: rec.url, 'insecure-skip-tls-verify': true } }],
            users: [{ name: 'u', user: { token: 't' } }],
            contexts: [{ name: 'x', context: { cluster: 'c', user: 'u', namespace: 'default' } }],
            'current-context': 'x',
          }),
        );
        const entry = fileURLToPath(new URL(`../../cmd/${component}/main.${fromSource ? 'ts' : 'js'}`, import.meta.url));
        children.push(
          spawn(process.execPath, [...(fromSource ? ['--import', 'tsx'] : []), entry, '--host', '127.0.0.1', ...(component === 'controller' ? [] : ['--port', '0']), '--metrics-port', '0'], {
            env: { ...process.env, KUBECONFIG: kubeconfig, NATS_URL: nats.url, KFN_LOG_LEVEL: 'fatal', KFN_AUTOSCALER_URL: 'http://127.0.0.1:1', KFN_ACTIVATOR_URL: 'http://127.0.0.1:1', POD_NAME: `${component}-0` },
            stdio: 'ignore',
          }),
        );
      }
      for (const [i, component] of components.entries()) {
        const rec = recorders[i];
        assert.ok(rec);
        await waitFor(`${component}'s first request`, () => rec.userAgents.length > 0, { timeoutMs: 60_000 });
        const want = userAgent(`kfn-${component}`);
        assert.match(want, new RegExp(`^kfn-${component}/\\d+\\.\\d+\\.\\d+`));
        assert.deepEqual([...new Set(rec.userAgents)], [want], `kfn-${component}`);
      }
    } finally {
      for (const child of children) {
        child.kill('SIGKILL');
        if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
      }
      for (const rec of recorders) {
        rec.server.closeAllConnections();
        await new Promise((resolve) => rec.server.close(resolve));
      }
    }
  });
});
