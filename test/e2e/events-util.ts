// Helpers for the event-flow end-to-end tests: Trigger manifests, a recording function,
// the event ingress, and a `kfn dev` that can be killed and started again on the same
// folder, KFN_HOME and NATS (test/util/dev.ts makes a new folder per start).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DevState } from '../../cmd/kfn/client.js';
import type { KfnTrigger } from '../../pkg/apis/trigger/types.js';
import { kfnBin } from '../util/dev.js';
import { waitFor } from '../util/wait.js';

export function triggerManifest(name: string, spec: Record<string, unknown>): string {
  const t = { apiVersion: 'kfn.dev/v1alpha1', kind: 'Trigger', metadata: { name, namespace: 'default' }, spec };
  return JSON.stringify(t, null, 2) + '\n';
}

/** A Function manifest running `handler` (a .js file in the test's folder) with `env`. */
export function functionManifest(name: string, handler: string, env: Record<string, string> = {}, spec: Record<string, unknown> = {}): string {
  const fn = {
    apiVersion: 'kfn.dev/v1alpha1',
    kind: 'Function',
    metadata: { name, namespace: 'default' },
    spec: {
      image: 'kfn/test:dev',
      command: ['kfn-node-runtime'],
      args: [handler],
      env: Object.entries(env).map(([k, v]) => ({ name: k, value: v })),
      ...spec,
    },
  };
  return JSON.stringify(fn, null, 2) + '\n';
}

/**
 * A function that appends one JSON line per request to $RECORD_FILE (after its optional
 * `?sleep=<ms>`, just before answering 2xx): the ce- headers, content-type, body, pid.
 * $START_DELAY_MS holds its start (before it listens), for slow cold starts.
 */
export const RECORDER_JS = `import { appendFileSync } from 'node:fs';
const startDelay = Number(process.env.START_DELAY_MS ?? 0);
if (startDelay > 0) await new Promise((resolve) => setTimeout(resolve, startDelay));
export default async function record(req) {
  const sleep = Number(req.query.get('sleep') ?? 0);
  if (sleep > 0) await new Promise((resolve) => setTimeout(resolve, sleep));
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) if (k.startsWith('ce-') || k === 'content-type') headers[k] = v;
  appendFileSync(process.env.RECORD_FILE, JSON.stringify({ at: Date.now(), pid: process.pid, path: req.path, headers, body: req.text() }) + '\\n');
  return { status: 204 };
}
`;

export interface Delivery {
  at: number;
  pid: number;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** Every delivery the recorder wrote so far; none when the file is not there yet. */
export async function readDeliveries(file: string): Promise<Delivery[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Delivery);
}

/** How many times each CloudEvent id was delivered. */
export function countById(deliveries: readonly Delivery[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of deliveries) {
    const id = d.headers['ce-id'] ?? '';
    out.set(id, (out.get(id) ?? 0) + 1);
  }
  return out;
}

export async function readDevState(home: string): Promise<DevState> {
  return JSON.parse(await readFile(path.join(home, 'dev.json'), 'utf8')) as DevState;
}

export interface IngressAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** POSTs to `<ingress>/<subject>` as given (headers and body), returns status and JSON body. */
export async function postEvent(ingress: string, subject: string, headers: Record<string, string>, body: string | Buffer): Promise<IngressAnswer> {
  const res = await fetch(`${ingress}/${subject}`, { method: 'POST', headers, body });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed };
}

/** A binary-mode CloudEvent with JSON data. */
export function binaryEvent(attrs: { id: string; type?: string; source?: string } & Record<string, string>, data: unknown): { headers: Record<string, string>; body: string } {
  const headers: Record<string, string> = { 'ce-specversion': '1.0', 'ce-type': 'dev.kfn.test', 'ce-source': '/e2e', 'content-type': 'application/json' };
  for (const [k, v] of Object.entries(attrs)) headers[`ce-${k}`] = v;
  return { headers, body: JSON.stringify(data) };
}

export async function getTrigger(admin: string, name: string, ns = 'default'): Promise<KfnTrigger> {
  const res = await fetch(`${admin}/api/triggers/${ns}/${name}`);
  if (!res.ok) throw new Error(`get trigger ${ns}/${name}: HTTP ${res.status}`);
  return (await res.json()) as KfnTrigger;
}

export function triggerReady(t: KfnTrigger | undefined): boolean {
  return Boolean(t?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
}

/** Waits until every named trigger reports Ready=True; the last statuses go into the error. */
export async function waitTriggersReady(admin: string, names: readonly string[], timeoutMs = 30_000): Promise<void> {
  const last = new Map<string, unknown>();
  try {
    await waitFor(
      `triggers ${names.join(', ')} to be ready`,
      async () => {
        for (const name of names) {
          const t = await getTrigger(admin, name).catch(() => undefined);
          last.set(name, t?.status);
          if (!triggerReady(t)) return false;
        }
        return true;
      },
      { timeoutMs, intervalMs: 50 },
    );
  } catch (err) {
    throw new Error(`${String(err)}; last statuses: ${JSON.stringify(Object.fromEntries(last))}`, { cause: err });
  }
}

/** A `kfn dev` child on a folder and KFN_HOME that outlive it, so it can be started again on them. */
export interface DevRun {
  proc: ChildProcess;
  state: DevState;
  output(): string;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (SIGKILL after 30 s), and wait until the process is gone. */
  stop(): Promise<void>;
}

export async function runDev(dir: string, home: string, flags: readonly string[]): Promise<DevRun> {
  const env = { ...process.env, KFN_HOME: home, KFN_LOG_LEVEL: process.env.KFN_LOG_LEVEL ?? 'info' };
  const proc = spawn(process.execPath, [kfnBin, 'dev', dir, '--port', '0', '--admin-port', '0', '--events-port', '0', '--scan-interval', '100ms', ...flags], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const gone = async (signal: NodeJS.Signals): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };
  // A killed kfn dev leaves its dev.json behind: wait for the one this process writes.
  const state = await waitFor(
    'kfn dev to write its state file',
    async () => {
      if (proc.exitCode !== null) throw new Error(`kfn dev exited with ${proc.exitCode}:\n${out}`);
      const s = await readDevState(home).catch(() => undefined);
      return s !== undefined && s.pid === proc.pid && s.ingress ? s : undefined;
    },
    { timeoutMs: 30_000 },
  ).catch(async (err: unknown) => {
    await gone('SIGKILL');
    throw new Error(`kfn dev did not start: ${String(err)}\n${out}`, { cause: err });
  });
  return { proc, state, output: () => out, kill: () => gone('SIGKILL'), stop: () => gone('SIGTERM') };
}
