// How the CLI finds and talks to a running `kfn dev`.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export function kfnHome(): string {
  return process.env.KFN_HOME ?? path.join(os.homedir(), '.kfn');
}

export function devStateFile(): string {
  return path.join(kfnHome(), 'dev.json');
}

export interface DevState {
  pid: number;
  activator: string;
  admin: string;
  /** NATS server the event bus uses. */
  nats?: string;
  /** Event ingress: POST a CloudEvent to `<ingress>/<subject>`. */
  ingress?: string;
}

/** --admin, then KFN_ADMIN, then the state file `kfn dev` wrote, then the default port. */
export async function adminUrl(flag: string | undefined): Promise<string> {
  if (flag) return flag;
  if (process.env.KFN_ADMIN) return process.env.KFN_ADMIN;
  try {
    const state = JSON.parse(await readFile(devStateFile(), 'utf8')) as DevState;
    return state.admin;
  } catch {
    return 'http://127.0.0.1:8081';
  }
}

export class CliError extends Error {}

export async function adminRequest<T>(base: string, method: string, route: string, body?: unknown): Promise<{ status: number; body: T }> {
  let res: Response;
  try {
    res = await fetch(new URL(route, base), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch (err) {
    throw new CliError(`cannot reach kfn dev at ${base} (${(err as Error).cause ? String((err as Error).cause) : String(err)}); is \`kfn dev\` running?`);
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed as T };
}
