// CPU time a process used, from /proc/<pid>/stat (utime + stime of it and its live
// descendants: nginx's worker is its master's child), for a proxy's CPU per request.
import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc's times (USER_HZ): 100 on Linux everywhere. */
const USER_HZ = 100;

interface Stat {
  ppid: number;
  ticks: number;
}

async function statOf(pid: string): Promise<Stat | undefined> {
  try {
    const s = await readFile(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": f[0] is state (field 3), f[1] ppid, f[11] utime, f[12] stime.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined;
  }
}

/** Microseconds of CPU used so far by each of `roots` and its descendants; undefined where /proc has no such pid. */
export async function cpuMicros(roots: readonly number[]): Promise<(number | undefined)[]> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
  } catch {
    return roots.map(() => undefined);
  }
  const stats = new Map<number, Stat>();
  await Promise.all(
    pids.map(async (p) => {
      const s = await statOf(p);
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
    return (ticks * 1e6) / USER_HZ;
  });
}
