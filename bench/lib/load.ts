// How busy the machine is with work that is not ours. On two cores, any other process
// moves every figure, so the benchmark waits for a quiet machine before it measures and
// reports how much CPU others used while it measured: everything busy (/proc/stat) minus
// interrupts, steal and what this process and its descendants used (/proc/<pid>/stat:
// their own time, and that of their children already reaped). Interrupts (mostly the
// loopback traffic the benchmark itself makes, handled in softirq) and steal (a virtual
// machine's host running something else on our cores) are reported on their own.
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';

export interface MachineLoad {
  /** Percent of all cores busy with other processes' work. */
  othersBusyPercent: number;
  /** Percent of all cores handling interrupts (irq and softirq), whoever caused them. */
  interruptsPercent: number;
  /** Percent of all cores the virtual machine's host took (steal). */
  stealPercent: number;
  loadAverage1m: number;
}

interface MachineTicks {
  /** Everything but idle and iowait. */
  busy: number;
  interrupts: number;
  steal: number;
  total: number;
}

interface Ticks extends MachineTicks {
  ours: number;
}

async function machineTicks(): Promise<MachineTicks | undefined> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
    // user nice system idle iowait irq softirq steal; guest time is already in user and nice.
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), interrupts: (f[5] ?? 0) + (f[6] ?? 0), steal: f[7] ?? 0, total };
  } catch {
    return undefined;
  }
}

interface ProcStat {
  ppid: number;
  /** utime + stime + cutime + cstime. */
  ticks: number;
}

async function procStat(pid: string): Promise<ProcStat | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": state is field 3 (f[0]), ppid field 4, utime..cstime fields 14..17.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    return { ppid: f[1] ?? 0, ticks: (f[11] ?? 0) + (f[12] ?? 0) + (f[13] ?? 0) + (f[14] ?? 0) };
  } catch {
    return undefined; // gone meanwhile
  }
}

/** CPU ticks of this process and every live descendant, including their reaped children. */
async function ourTicks(): Promise<number> {
  const pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
  const stats = new Map<number, ProcStat>();
  await Promise.all(
    pids.map(async (p) => {
      const s = await procStat(p);
      if (s) stats.set(Number(p), s);
    }),
  );
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) {
    const list = children.get(s.ppid) ?? [];
    list.push(pid);
    children.set(s.ppid, list);
  }
  let sum = 0;
  const stack = [process.pid];
  while (stack.length > 0) {
    const pid = stack.pop() ?? 0;
    sum += stats.get(pid)?.ticks ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return sum;
}

async function ticks(): Promise<Ticks | undefined> {
  const m = await machineTicks();
  if (!m) return undefined;
  return { ...m, ours: await ourTicks() };
}

/** Adds up others' CPU use over any number of measured windows. */
export class LoadMeter {
  private busy = 0;
  private interrupts = 0;
  private steal = 0;
  private total = 0;
  private ours = 0;
  private open: Ticks | undefined;

  async start(): Promise<void> {
    this.open = await ticks();
  }

  async stop(): Promise<void> {
    const a = this.open;
    this.open = undefined;
    const b = await ticks();
    if (!a || !b || b.total <= a.total) return;
    this.busy += b.busy - a.busy;
    this.interrupts += b.interrupts - a.interrupts;
    this.steal += b.steal - a.steal;
    this.total += b.total - a.total;
    this.ours += b.ours - a.ours;
  }

  /** Undefined when nothing was measured (or there is no /proc). */
  result(): MachineLoad | undefined {
    if (this.total <= 0) return undefined;
    const percent = (t: number): number => Math.round((Math.max(0, t) / this.total) * 1000) / 10;
    return {
      othersBusyPercent: percent(this.busy - this.interrupts - this.steal - this.ours),
      interruptsPercent: percent(this.interrupts),
      stealPercent: percent(this.steal),
      loadAverage1m: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
    };
  }
}

/** What the machine lost to others: their processes and the host's steal. */
export function lostPercent(l: MachineLoad): number {
  return Math.round((l.othersBusyPercent + l.stealPercent) * 10) / 10;
}

/** Others' use of the machine over `ms`. */
export async function sampleLoad(ms = 1000): Promise<MachineLoad | undefined> {
  const meter = new LoadMeter();
  await meter.start();
  await new Promise((r) => setTimeout(r, ms));
  await meter.stop();
  return meter.result();
}
