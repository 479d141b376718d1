// Runs the built CLI as a user would: a child process with its own KFN_HOME, so no
// `kfn dev` state or NATS_URL from the machine running the tests leaks in.
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const main = path.join(repoRoot, 'dist', 'cmd', 'kfn', 'main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function tempHome(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'kfn-cli-'));
}

export function kfn(args: string[], opts: { home: string; stdin?: string | Buffer; env?: Record<string, string> }): Promise<CliResult> {
  // No kubeconfig unless the test gives one: the machine's ~/.kube/config must not leak in.
  const env: NodeJS.ProcessEnv = { ...process.env, KFN_HOME: opts.home, KUBECONFIG: path.join(opts.home, 'no-kubeconfig'), ...opts.env };
  if (!opts.env?.NATS_URL) delete env.NATS_URL;
  delete env.KFN_ADMIN;
  const child = spawn(process.execPath, [main, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(opts.stdin ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
