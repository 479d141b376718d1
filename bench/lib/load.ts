// How busy the machine is with work that is not ours. On two cores, any other process
// moves every figure, so the benchmark waits for a quiet machine before it measures and
// reports how much CPU others used while it measured: everything busy (/proc/stat) minus
// interrupts, steal and what this process and its descendants used (/proc/<pid>/stat:
// their own time, and that of their children already reaped). Interrupts (mostly the
// loopback traffic the benchmark itself makes, handled in softirq) and steal (a virtual
// machine's host running something else on our cores) are reported on their own.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { treeTicks } from './cpu.js';

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

/** CPU ticks of this process and every live descendant, including their reaped children. */
async function ourTicks(): Promise<number> {
  return (await treeTicks([process.pid], true))[0] ?? 0;
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
