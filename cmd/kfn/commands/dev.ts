// `kfn dev [dir]`: runs the whole platform on this machine.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseDuration } from '../../../pkg/shared/duration.js';
import { runComponent, readFlags } from '../../../pkg/shared/startup.js';
import { startDev } from '../../../pkg/dev/dev.js';
import { HomeInUseError, lockHome, type HomeLock } from '../../../pkg/dev/lock.js';
import { assertSafeListen } from '../../../pkg/dev/admin-access.js';
import { claimBuild } from '../../../pkg/dev/build-claim.js';
import { defaultMaxReplicas } from '../../../pkg/platform/local/replica-cap.js';
import type { AutoscalerConfig } from '../../../pkg/autoscaler/config.js';
import { CliError, devStateFile, kfnHome, type DevState } from '../client.js';

const options = {
  host: { type: 'string' },
  port: { type: 'string' },
  'admin-port': { type: 'string' },
  'admin-token': { type: 'string' },
  'admin-allow-host': { type: 'string' },
  domain: { type: 'string' },
  'stable-window': { type: 'string' },
  'panic-window-percentage': { type: 'string' },
  'scale-to-zero-grace': { type: 'string' },
  'scale-down-delay': { type: 'string' },
  tick: { type: 'string' },
  'scan-interval': { type: 'string' },
  'queue-depth': { type: 'string' },
  'nats-url': { type: 'string' },
  'nats-server': { type: 'string' },
  'events-port': { type: 'string' },
  'ack-wait': { type: 'string' },
  'max-event-bytes': { type: 'string' },
  'warm-runtimes': { type: 'string' },
  'max-replicas': { type: 'string' },
} as const;

export const devUsage = `kfn dev [dir] [flags]   run every kfn component on this machine (dir: manifests, default samples/)
  --port N                   activator port (default 8080; 0 picks one)
  --admin-port N             admin API, /metrics, /healthz (default 8081; 0 picks one)
  --host ADDR                listen address (default 127.0.0.1); beyond loopback only with a token
  --admin-token T            the admin API wants Authorization: Bearer T on every request (better
                             as KFN_ADMIN_TOKEN: a flag shows in ps); kfn finds it in $KFN_HOME/dev.json
  --admin-allow-host A,B     names the admin API answers for besides localhost, 127.0.0.1, [::1]
  --domain D                 routes Host <name>.<namespace>.D (default kfn.local)
  --stable-window D          autoscaler stable window (default 60s)
  --panic-window-percentage N  panic window as % of the stable window (default 10)
  --scale-to-zero-grace D    keep the last replica this long after the decision (default 30s)
  --scale-down-delay D       hold scale-down this long (default 0s)
  --tick D                   autoscaler tick (default 2s)
  --scan-interval D          how often dir is rescanned for changes (default 500ms)
  --queue-depth N            requests buffered per function while it starts (default 10000)
  --warm-runtimes N          kfn-node-runtime processes kept started for cold starts to take
                             (default 1; 0: every replica starts a fresh process)
  --max-replicas N           replicas of all functions together (default: half this machine's
                             memory at 64 MiB per replica, ${defaultMaxReplicas(os.totalmem())} here); a function whose
                             scale asks for more gets what is left, and says so (ReplicaCapReached)
  --nats-url URL             NATS with JetStream for Triggers (also NATS_URL); default: start
                             nats-server with its data in $KFN_HOME/nats
  --nats-server PATH         the nats-server binary to start (default: found on PATH)
  --events-port N            event ingress: POST a CloudEvent to /<subject> (default 8082; 0 picks one)
  --ack-wait D               JetStream redelivery timer of trigger consumers (default 30s)
  --max-event-bytes N        largest event the ingress accepts (default 1048576; never more than NATS's max_payload, headers included)
Every flag can also be set as KFN_<FLAG> (KFN_STABLE_WINDOW=6s).`;

export async function devCommand(argv: string[]): Promise<void> {
  const { values, positionals } = readFlags(argv, options);
  const dir = path.resolve(positionals[0] ?? 'samples');
  const autoscaler: Partial<AutoscalerConfig> = {};
  const win = duration(values['stable-window'], 'stable-window');
  if (win !== undefined) autoscaler.stableWindowMs = win;
  const grace = duration(values['scale-to-zero-grace'], 'scale-to-zero-grace');
  if (grace !== undefined) autoscaler.scaleToZeroGracePeriodMs = grace;
  const delay = duration(values['scale-down-delay'], 'scale-down-delay');
  if (delay !== undefined) autoscaler.scaleDownDelayMs = delay;
  const tick = duration(values.tick, 'tick');
  if (tick !== undefined) autoscaler.tickIntervalMs = tick;
  const panic = numberFlag(values['panic-window-percentage'], 'panic-window-percentage');
  if (panic !== undefined) autoscaler.panicWindowPercentage = panic;

  const maxReplicas = numberFlag(values['max-replicas'], 'max-replicas') ?? defaultMaxReplicas(os.totalmem());
  if (maxReplicas < 1) throw new CliError('--max-replicas: at least 1 (each function at scale.min 0 still needs one replica to serve)');
  const host = str(values.host) ?? '127.0.0.1';
  try {
    assertSafeListen(host, nonEmpty(str(values['admin-token'])));
  } catch (err) {
    throw new CliError((err as Error).message, { cause: err });
  }

  // Before anything else: a second kfn dev on this KFN_HOME must change nothing of the first's.
  const home = kfnHome();
  let lock: HomeLock;
  try {
    lock = await lockHome(home);
  } catch (err) {
    if (err instanceof HomeInUseError) throw new CliError(err.message, { cause: err });
    throw err;
  }
  // `npm run build` keeps this build while we run (scripts/build.sh).
  const releaseBuild = await claimBuild();
  try {
    await run(dir, values, autoscaler, home, maxReplicas);
  } finally {
    await releaseBuild();
    await lock.release();
  }
}

async function run(dir: string, values: Record<string, string | boolean | undefined>, autoscaler: Partial<AutoscalerConfig>, home: string, maxReplicas: number): Promise<void> {
  await runComponent({
    name: 'kfn-dev',
    async start({ log, metrics, signal, setReady }) {
      log.info({ maxReplicas }, `at most ${maxReplicas} replicas, all functions together (--max-replicas)`);
      const token = nonEmpty(str(values['admin-token']));
      const handle = await startDev({
        dir,
        host: str(values.host) ?? '127.0.0.1',
        port: numberFlag(values.port, 'port') ?? 8080,
        adminPort: numberFlag(values['admin-port'], 'admin-port') ?? 8081,
        ...optional('adminToken', token),
        ...optional('adminAllowHosts', list(values['admin-allow-host'])),
        domain: str(values.domain) ?? 'kfn.local',
        autoscaler,
        scanIntervalMs: duration(values['scan-interval'], 'scan-interval') ?? 500,
        queueDepth: numberFlag(values['queue-depth'], 'queue-depth'),
        warmRuntimes: numberFlag(values['warm-runtimes'], 'warm-runtimes') ?? 1,
        maxReplicas,
        stateDir: home,
        eventsPort: numberFlag(values['events-port'], 'events-port') ?? 8082,
        ...optional('natsUrl', str(values['nats-url']) ?? nonEmpty(process.env.NATS_URL)),
        ...optional('natsServerBin', str(values['nats-server'])),
        ...optional('ackWaitMs', duration(values['ack-wait'], 'ack-wait')),
        ...optional('maxEventBytes', numberFlag(values['max-event-bytes'], 'max-event-bytes')),
        log,
        metrics,
        signal,
      });
      const state: DevState = { pid: process.pid, activator: handle.activatorUrl, admin: handle.adminUrl };
      if (handle.natsUrl) state.nats = handle.natsUrl;
      if (handle.ingressUrl) state.ingress = handle.ingressUrl;
      if (token !== undefined) state.token = token;
      await writeState(home, state);
      setReady(true);
      log.info({ ...state, dir }, 'kfn dev is running');
      process.stderr.write(
        `\nkfn dev is running (manifests from ${dir})\n` +
          `  call a function:  curl ${handle.activatorUrl}/<namespace>/<name>/   (e.g. /default/hello/)\n` +
          `  see functions:    kfn get          (admin API ${handle.adminUrl})\n` +
          (handle.ingressUrl
            ? `  publish an event: kfn publish <subject> '{"hello":"world"}'   (or POST a CloudEvent to ${handle.ingressUrl}/<subject>; NATS at ${handle.natsUrl ?? ''})\n\n`
            : `  events are off: no NATS (see the warning above)\n\n`),
      );
      return {
        done: handle.done.finally(() => rm(devStateFile(), { force: true })),
      };
    },
  });
}

/**
 * dev.json, readable by this user only (it may hold the admin token), written aside and
 * renamed in: a CLI reading it meanwhile sees the old file or the new one, and a file left
 * by an older kfn with mode 0644 is replaced, not rewritten in place with its old mode.
 */
async function writeState(home: string, state: DevState): Promise<void> {
  await mkdir(home, { recursive: true });
  const file = devStateFile();
  const draft = `${file}.${process.pid}.tmp`;
  await writeFile(draft, JSON.stringify(state) + '\n', { mode: 0o600 });
  await rename(draft, file);
}

function list(v: string | boolean | undefined): string[] | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  return s.split(',').map((x) => x.trim()).filter((x) => x !== '');
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

function str(v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function duration(v: string | boolean | undefined, flag: string): number | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const ms = parseDuration(s);
  if (ms === undefined) throw new CliError(`--${flag}: "${s}" is not a duration (examples: 500ms, 6s, 1m)`);
  return ms;
}

function numberFlag(v: string | boolean | undefined, flag: string): number | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`--${flag}: "${s}" is not a whole number`);
  return n;
}
