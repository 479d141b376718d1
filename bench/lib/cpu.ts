// CPU time a process used, from /proc/<pid>/stat (utime + stime of it and its live
// descendants: nginx's worker is its master's child), for a proxy's CPU per request.
import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc's times (USER_HZ): 100 on Linux everywhere. */
const USER_HZ = 100;

interface Stat {
  ppid: number;
  /** utime + stime, and with `reaped` also cutime + cstime (children it has waited for). */
  ticks: number;
}

async function statOf(pid: string, reaped: boolean): Promise<Stat | undefined> {
  try {
    const s = await readFile(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": f[0] is state (field 3), f[1] ppid, f[11..14] utime, stime, cutime, cstime.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ').map(Number);
    const own = (f[11] ?? 0) + (f[12] ?? 0);
    return { ppid: f[1] ?? 0, ticks: reaped ? own + (f[13] ?? 0) + (f[14] ?? 0) : own };
  } catch {
    return undefined; // gone meanwhile
  }
}

/**
 * CPU ticks used so far by each of `roots` and its live descendants; undefined where /proc
 * has no such pid. With `reaped`, also what their waited-for children used.
 */
export async function treeTicks(roots: readonly number[], reaped = false): Promise<(number | undefined)[]> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
  } catch {
    return roots.map(() => undefined);
  }
  const stats = new Map<number, Stat>();
  await Promise.all(
    pids.map(async (p) => {
      const s = await statOf(p, reaped);
      if (s) stats.set(Number(p), s);
    }),
  );
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) {
    const list = children.get(s.ppid) ?? [];
    list.push(pid);
    children.set(s.ppid, list);
  }
  return roots.map((root) => {
    if (!stats.has(root)) return undefined;
    let ticks = 0;
    const stack = [root];
    while (stack.length > 0) {
      const pid = stack.pop() as number;
      ticks += stats.get(pid)?.ticks ?? 0;
      stack.push(...(children.get(pid) ?? []));
    }
    return ticks;
  });
}

/** Microseconds of CPU used so far by each of `roots` and its descendants; undefined where /proc has no such pid. */
export async function cpuMicros(roots: readonly number[]): Promise<(number | undefined)[]> {
  return (await treeTicks(roots)).map((t) => (t === undefined ? undefined : (t * 1e6) / USER_HZ));
}
