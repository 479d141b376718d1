// How the CLI finds and connects to the NATS server the event bus runs on.
import { readFile } from 'node:fs/promises';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { CliError, devStateFile, type DevState } from './client.js';

/** A NATS server on this machine at NATS's standard port, when kfn dev left no state file. */
export const LOCAL_NATS_URL = 'nats://127.0.0.1:4222';

/** --nats, then NATS_URL, then the state file `kfn dev` wrote, then the default port. */
export async function natsUrl(flag: string | undefined): Promise<string> {
  if (flag) return flag;
  if (process.env.NATS_URL) return process.env.NATS_URL;
  try {
    const state = JSON.parse(await readFile(devStateFile(), 'utf8')) as DevState;
    if (state.nats) return state.nats;
  } catch {
    // no kfn dev state: the default
  }
  return LOCAL_NATS_URL;
}

/** Runs `use` with a connection (to a server with JetStream) that is closed afterwards, whatever happens. */
export async function withNats<T>(url: string, use: (nc: NatsConnection, jsm: JetStreamManager) => Promise<T>): Promise<T> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: url, maxReconnectAttempts: 0, timeout: 5_000, name: 'kfn-cli' });
  } catch (err) {
    throw new CliError(`cannot reach NATS at ${url} (${(err as Error).message}); pass --nats URL or set NATS_URL`);
  }
  try {
    let jsm: JetStreamManager;
    try {
      jsm = await nc.jetstreamManager();
    } catch (err) {
      // Nobody answers the JetStream API: 503, no responders.
      if ((err as { code?: unknown }).code === '503') throw new CliError(`NATS at ${url} has no JetStream (start nats-server with -js)`);
      throw err;
    }
    return await use(nc, jsm);
  } finally {
    await nc.close();
  }
}
