// Starts `kfn dev` as a user would (the built CLI, a real child process) on free ports,
// with its own KFN_HOME and manifest folder, and drives it over HTTP.
import { runProcess, type ProcessResult } from './process.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KfnFunction } from '../../pkg/apis/function/types.js';
import type { KfnTrigger } from '../../pkg/apis/trigger/types.js';
import { waitFor } from './wait.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const kfnBin = path.join(repoRoot, 'bin', 'kfn');

export interface DevProcess {
  dir: string;
  home: string;
  activator: string;
  admin: string;
  /** NATS and the event ingress; undefined when kfn dev runs without events. */
  nats?: string;
  ingress?: string;
  proc: ChildProcess;
  /** Everything kfn dev logged, for assertions and for failure messages. */
  output: () => string;
  get(name: string, ns?: string): Promise<KfnFunction>;
  getTrigger(name: string, ns?: string): Promise<KfnTrigger>;
  waitStatus(what: string, name: string, ok: (fn: KfnFunction) => boolean, timeoutMs?: number): Promise<KfnFunction>;
  kfn(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/** Copies the hello sample's handler into a fresh folder, writes `manifests` there, and starts kfn dev on it. */
export async function startDev(manifests: Record<string, string>, flags: string[] = []): Promise<DevProcess> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kfn-e2e-'));
  const home = path.join(dir, '.home');
  await cp(path.join(repoRoot, 'samples', 'hello', 'handler.js'), path.join(dir, 'handler.js'));
  for (const [file, text] of Object.entries(manifests)) await writeFile(path.join(dir, file), text);

  const env = { ...process.env, KFN_HOME: home, KFN_LOG_LEVEL: process.env.KFN_LOG_LEVEL ?? 'info' };
  const proc = spawn(process.execPath, [kfnBin, 'dev', dir, '--port', '0', '--admin-port', '0', '--events-port', '0', '--scan-interval', '100ms', ...flags], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));

  const state = await waitFor(
    'kfn dev to write its state file',
    async () => {
      if (proc.exitCode !== null) throw new Error(`kfn dev exited with ${proc.exitCode}:\n${out}`);
      try {
        return JSON.parse(await readFile(path.join(home, 'dev.json'), 'utf8')) as { activator: string; admin: string; nats?: string; ingress?: string };
      } catch {
        return undefined;
      }
    },
    { timeoutMs: 30_000 },
  ).catch((err: unknown) => {
    proc.kill('SIGKILL');
    throw new Error(`kfn dev did not start: ${String(err)}\n${out}`, { cause: err });
  });

  const dev: DevProcess = {
    dir,
    home,
    activator: state.activator,
    admin: state.admin,
    ...(state.nats ? { nats: state.nats } : {}),
    ...(state.ingress ? { ingress: state.ingress } : {}),
    proc,
    output: () => out,
    async get(name, ns = 'default') {
      const res = await fetch(`${state.admin}/api/functions/${ns}/${name}`);
      if (!res.ok) throw new Error(`get ${ns}/${name}: HTTP ${res.status}`);
      return (await res.json()) as KfnFunction;
    },
    async getTrigger(name, ns = 'default') {
      const res = await fetch(`${state.admin}/api/triggers/${ns}/${name}`);
      if (!res.ok) throw new Error(`get trigger ${ns}/${name}: HTTP ${res.status}`);
      return (await res.json()) as KfnTrigger;
    },
    async waitStatus(what, name, ok, timeoutMs = 30_000) {
      let last: KfnFunction | undefined;
      try {
        return await waitFor(
          what,
          async () => {
            last = await dev.get(name).catch(() => undefined);
            return last && ok(last) ? last : undefined;
          },
          { timeoutMs, intervalMs: 50 },
        );
      } catch (err) {
        throw new Error(`${String(err)}; last status: ${JSON.stringify(last?.status)}`, { cause: err });
      }
    },
    kfn: (...args) => runKfn(args, { ...env, KFN_ADMIN: state.admin }),
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      // SIGKILL only if it has not exited in 30 s; the timer must not outlive the exit.
      const kill = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(kill);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return dev;
}

/**
 * Runs `body` against a fresh `kfn dev` and stops it afterwards; a failure carries the tail
 * of kfn dev's output, which is where the reason usually is.
 */
export async function withDev(manifests: Record<string, string>, flags: string[], body: (dev: DevProcess) => Promise<void>): Promise<void> {
  const dev = await startDev(manifests, flags);
  try {
    await body(dev);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- kfn dev output (tail) ---\n${dev.output().slice(-6000)}`, { cause: err });
  } finally {
    await dev.stop();
  }
}

export function runKfn(args: string[], env: NodeJS.ProcessEnv): Promise<ProcessResult> {
  return runProcess(process.execPath, [kfnBin, ...args], { env });
}

/** A Function manifest running the hello sample's handler from the test's folder. */
export function helloManifest(name: string, spec: Record<string, unknown> = {}): string {
  const fn = {
    apiVersion: 'kfn.dev/v1alpha1',
    kind: 'Function',
    metadata: { name, namespace: 'default' },
    spec: { image: 'kfn/hello:dev', command: ['kfn-node-runtime'], args: ['handler.js'], ...spec },
  };
  return JSON.stringify(fn, null, 2) + '\n';
}
