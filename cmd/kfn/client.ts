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
  /** The admin API's bearer token, when kfn dev was started with one (the file is then mode 0600). */
  token?: string;
}

/** The running kfn dev's state file; undefined when there is none or it does not parse. */
export async function readDevState(): Promise<DevState | undefined> {
  try {
    return JSON.parse(await readFile(devStateFile(), 'utf8')) as DevState;
  } catch {
    return undefined;
  }
}

/**
 * The token to send to `admin`: KFN_ADMIN_TOKEN, else the one kfn dev wrote in its state
 * file, but only to the admin URL written beside it (never to another server).
 */
export async function adminToken(admin: string): Promise<string | undefined> {
  if (process.env.KFN_ADMIN_TOKEN) return process.env.KFN_ADMIN_TOKEN;
  const state = await readDevState();
  return state?.admin === admin && typeof state.token === 'string' ? state.token : undefined;
}

/** --admin, then KFN_ADMIN, then the state file `kfn dev` wrote, then the default port. */
export async function adminUrl(flag: string | undefined): Promise<string> {
  if (flag) return flag;
  if (process.env.KFN_ADMIN) return process.env.KFN_ADMIN;
  return (await readDevState())?.admin ?? 'http://127.0.0.1:8081';
}

export class CliError extends Error {}

export async function adminRequest<T>(base: string, method: string, route: string, body?: unknown, token?: string): Promise<{ status: number; body: T }> {
  let res: Response;
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  try {
    res = await fetch(new URL(route, base), {
      method,
      headers,
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
