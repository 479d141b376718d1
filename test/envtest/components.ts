// kfn's four cluster components as real processes against a real API server, each with a
// token of its own ServiceAccount from config/ (so config/'s RBAC decides what it may do),
// wired to each other on loopback as config/ wires them through Services.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { request } from 'undici';
import { repoRoot } from '../config/load.js';
import { waitFor } from '../util/wait.js';
import { freePort } from '../util/net.js';
import type { ControlPlane } from './control-plane.js';

export const KFN_NAMESPACE = 'kfn-system';

export interface Component {
  name: string;
  port: number;
  metricsPort: number;
  /** Everything it logged (pino JSON lines), for assertions and failure messages. */
  logs(): string;
  /** Log lines where RBAC or authentication refused the component (not a quota's 403). */
  refusals(): string[];
  stop(): Promise<void>;
  /** SIGKILL, as a node or container dies: no shutdown, no Lease released. */
  kill(): Promise<void>;
}

export interface Components {
  controller: Component;
  autoscaler: Component;
  activator: Component;
  dispatcher: Component;
  stop(): Promise<void>;
  logs(): string;
}

const ENTRIES = {
  controller: { sa: 'kfn-controller' },
  autoscaler: { sa: 'kfn-autoscaler' },
  activator: { sa: 'kfn-activator' },
  dispatcher: { sa: 'kfn-dispatcher' },
} as const;

/** Starts the components (config/ must be installed) and waits for each /healthz. */
export async function startComponents(cp: ControlPlane, natsUrl: string, extraEnv: Partial<Record<keyof typeof ENTRIES, NodeJS.ProcessEnv>> = {}): Promise<Components> {
  const ports = Object.fromEntries(await Promise.all(Object.keys(ENTRIES).map(async (k) => [k, { port: await freePort(), metrics: await freePort() }] as const))) as Record<
    keyof typeof ENTRIES,
    { port: number; metrics: number }
  >;
  const started: Component[] = [];
  try {
    for (const [name, { sa }] of Object.entries(ENTRIES) as [keyof typeof ENTRIES, { sa: string }][]) {
      const env = await componentEnv(cp, sa, `${sa}-0`, {
        KFN_PORT: String(ports[name].port),
        KFN_METRICS_PORT: String(ports[name].metrics),
        NATS_URL: natsUrl,
        KFN_AUTOSCALER_URL: `http://127.0.0.1:${ports.autoscaler.port}`,
        KFN_ACTIVATOR_URL: `http://127.0.0.1:${ports.activator.port}`,
        ...extraEnv[name],
      });
      started.push(await startComponent(name, ports[name].port, ports[name].metrics, env));
    }
  } catch (err) {
    for (const c of started) await c.stop();
    throw err;
  }
  const [controller, autoscaler, activator, dispatcher] = started as [Component, Component, Component, Component];
  return {
    controller,
    autoscaler,
    activator,
    dispatcher,
    logs: () => started.map((c) => `--- ${c.name}\n${c.logs().slice(-6000)}`).join('\n'),
    async stop() {
      await Promise.all(started.map((c) => c.stop()));
    },
  };
}

/** The env of component `name` running as ServiceAccount `sa` of kfn-system, with a fresh token. */
export async function componentEnv(cp: ControlPlane, sa: string, podName: string, env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  const token = await cp.serviceAccountToken(KFN_NAMESPACE, sa);
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    KUBECONFIG: cp.kubeconfig({ token, name: podName, namespace: KFN_NAMESPACE }),
    KFN_LOG_LEVEL: 'debug',
    KFN_NAMESPACE,
    POD_NAME: podName,
    KFN_DOMAIN: 'kfn.local',
    ...env,
  };
}

/** One component's process (entry `dist/cmd/<name>/main.js`), healthy on `metricsPort`. */
export async function startComponent(name: string, port: number, metricsPort: number, env: NodeJS.ProcessEnv): Promise<Component> {
  const entry = path.join(repoRoot(), 'dist', 'cmd', name, 'main.js');
  const child: ChildProcess = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (chunk: Buffer): void => {
    out += chunk.toString();
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitFor(`${name} /healthz`, async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
      const res = await request(`http://127.0.0.1:${metricsPort}/healthz`);
      await res.body.dump();
      return res.statusCode === 200;
    }, { timeoutMs: 30_000, intervalMs: 100 });
  } catch (err) {
    await stop();
    throw new Error(`${name} did not become healthy:\n${out.slice(-4000)}`, { cause: err });
  }
  return {
    name,
    port,
    metricsPort,
    logs: () => out,
    // RBAC's refusal reads `User "system:serviceaccount:…" cannot list resource "pods"…`.
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    },
    refusals: () => out.split('\n').filter((l) => /cannot \w+ resource|Unauthorized|\b401\b/.test(l)),
    stop,
  };
}
