// A fresh kfn-node-runtime replica is ready when its `listening` line says so, not when
// something accepts connections on the port the platform picked for it: the platform
// lets that port go before the replica binds it, and another process may take it in
// between (a burst of 100 cold starts made one replica ready on someone else's listener).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { KfnFunction } from '../../pkg/apis/function/types.js';
import type { FunctionKey } from '../../pkg/apis/meta.js';
import { LocalPlatform } from '../../pkg/platform/local/index.js';
import { LOCAL_DIR_ANNOTATION } from '../../pkg/platform/local/launch.js';
import type { EndpointsUpdate, ReadyEndpoint } from '../../pkg/platform/types.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { waitFor } from '../util/wait.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const helloHandler = pathToFileURL(path.join(root, 'samples', 'hello', 'handler.js')).href;
const key: FunctionKey = { namespace: 'default', name: 'late' };

const cleanups: Array<() => Promise<void>> = [];
void afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function get(ep: ReadyEndpoint): Promise<{ status: number; server: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: ep.host, port: ep.port, path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, server: res.headers['x-squatter'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('LocalPlatform readiness of kfn-node-runtime', () => {
  it('is not fooled by another process listening on the picked port before the replica binds it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kfn-late-'));
    // Loads for a while before it listens: the window in which another process takes its port.
    await writeFile(path.join(dir, 'late.mjs'), `await new Promise((r) => setTimeout(r, 1000));\nexport { default } from ${JSON.stringify(helloHandler)};\n`);
    const platform = new LocalPlatform({
      log: quietLogger(),
      runtimeBinDir: path.join(root, 'bin'),
      options: { drainTimeoutMs: 5000, restartBackoff: { kind: 'linear', baseMs: 50, maxMs: 50 } },
    });
    const squatter = createServer((_req, res) => res.setHeader('x-squatter', 'yes').end('not the replica'));
    cleanups.push(async () => {
      await platform.close();
      if (squatter.listening) await new Promise((r) => squatter.close(r));
      await rm(dir, { recursive: true, force: true });
    });
    const updates: EndpointsUpdate[] = [];
    platform.watchEndpoints((u) => updates.push(u));
    const fn: KfnFunction = {
      apiVersion: 'kfn.dev/v1alpha1',
      kind: 'Function',
      metadata: { name: key.name, namespace: key.namespace, annotations: { [LOCAL_DIR_ANNOTATION]: dir } },
      spec: { image: 'late', command: ['kfn-node-runtime'], args: ['late.mjs'] },
    };
    await platform.applyFunction(fn);
    await platform.setScale(key, 1);
    const picked = await waitFor('the replica to be started on a port', () => platform.describe(key)?.replicas[0]?.port);
    await new Promise<void>((resolve, reject) => {
      squatter.once('error', reject);
      squatter.listen(picked, '127.0.0.1', resolve);
    });
    const [ep] = await waitFor('a ready endpoint', () => updates.at(-1)?.endpoints.length === 1 && updates.at(-1)?.endpoints, { timeoutMs: 30_000 });
    assert.ok(ep);
    assert.notEqual(ep.port, picked, 'ready on the port another process holds');
    const answer = await get(ep);
    assert.equal(answer.status, 200);
    assert.equal(answer.server, undefined, 'answered by the squatter');
  });
});
