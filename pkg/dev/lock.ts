// One kfn dev per KFN_HOME: its nats-server store, dev.json and the leftover-server
// cleanup all assume they are alone. The lock is a file created atomically (O_EXCL)
// holding the owner's pid; a lock whose pid is gone, or is no longer a kfn dev (the pid
// was reused), was left by a killed kfn dev and is taken over.
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const LOCK_FILE = 'dev.lock';

export class HomeInUseError extends Error {
  constructor(
    readonly home: string,
    readonly pid: number,
  ) {
    super(
      `another kfn dev (pid ${pid}) is running with KFN_HOME ${home}; stop it first, ` +
        `or give this one its own folder: KFN_HOME=/some/other/dir kfn dev`,
    );
    this.name = 'HomeInUseError';
  }
}

export interface HomeLock {
  /** Removes the lock if it is still ours. */
  release(): Promise<void>;
}

export interface LockOptions {
  /** Whether `pid` is a running kfn dev; default: from /proc (see isKfnDev). */
  isOwner?: (pid: number) => Promise<boolean>;
  /** The pid written into the lock; default: this process. */
  pid?: number;
}

/** Takes `home`'s lock or throws HomeInUseError naming the folder and the running pid. */
export async function lockHome(home: string, opts: LockOptions = {}): Promise<HomeLock> {
  const file = path.join(home, LOCK_FILE);
  const pid = opts.pid ?? process.pid;
  const isOwner = opts.isOwner ?? isKfnDev;
  await mkdir(home, { recursive: true });
  // A few rounds only matter when several kfn dev start at once over a stale lock.
  for (let round = 0; round < 5; round++) {
    if (await create(file, pid)) return { release: () => releaseIf(file, pid) };
    const holder = await readPid(file);
    if (holder !== undefined && holder !== pid && (await isOwner(holder))) throw new HomeInUseError(home, holder);
    await takeOverStale(file, pid, holder);
  }
  const holder = await readPid(file);
  throw new HomeInUseError(home, holder ?? 0);
}

/**
 * Creates the lock file with our pid; false when it exists. Written aside and linked in
 * (link, like O_EXCL, fails when the name exists), so the lock is never seen empty: an
 * empty lock would read as stale to another kfn dev starting at the same moment.
 */
async function create(file: string, pid: number): Promise<boolean> {
  const draft = `${file}.new.${pid}`;
  try {
    await writeFile(draft, `${pid}\n`);
    await link(draft, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new Error(`cannot create the lock ${file}: ${(err as Error).message}`, { cause: err });
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}

/**
 * Moves the stale lock of `stale` aside (rename is atomic: of two kfn dev doing this at
 * once only one gets the file), and puts it back if, by then, it was another lock: a live
 * kfn dev's that replaced the stale one meanwhile.
 */
async function takeOverStale(file: string, pid: number, stale: number | undefined): Promise<void> {
  const aside = `${file}.stale.${pid}`;
  try {
    await rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const holder = await readPid(aside);
  if (holder !== stale) {
    // link fails if yet another lock appeared: then that one stands.
    await link(aside, file).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

async function releaseIf(file: string, pid: number): Promise<void> {
  if ((await readPid(file)) === pid) await unlink(file).catch(() => undefined);
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` runs `kfn dev`: alive, and its command line names kfn (bin/kfn, or
 * cmd/kfn/main.js as `npm start` runs it) with the `dev` command. Without /proc (macOS)
 * a live pid is trusted.
 */
export async function isKfnDev(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive, run by another user; its command line decides.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let cmdline: string;
  try {
    cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return process.platform !== 'linux';
  }
  return isKfnDevCommand(cmdline.split('\0').filter(Boolean));
}

/** `node …/bin/kfn dev …`, `kfn dev`, `node dist/cmd/kfn/main.js dev …`. */
export function isKfnDevCommand(argv: readonly string[]): boolean {
  const at = argv.findIndex((a) => /(^|\/)kfn$/.test(a) || /(^|\/)cmd\/kfn\/main\.js$/.test(a));
  return at >= 0 && argv[at + 1] === 'dev';
}
