// CPU accounting from /proc: how busy the whole machine was during a measurement, and how much
// of that was the bench's own processes. On a shared machine other work steals cores from a
// benchmark; the results say how much, and a bench can wait for a quiet moment before it starts.
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { note } from "./progress.js";

const TICKS_PER_S = 100; // USER_HZ on Linux

interface MachineTicks {
  busy: number;
  total: number;
  steal: number;
  /** interrupt and softirq time: loopback networking is processed here, charged to no process */
  irq: number;
}

function machineTicks(): MachineTicks | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, total: busy + idle + iowait, steal, irq: irq + softirq };
  } catch {
    return undefined;
  }
}

/** CPU seconds a process has used so far (all its threads), or 0 once it is gone. */
function processSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields after the command: state(0) ... utime(11) stime(12)
    return (Number(f[11]) + Number(f[12])) / TICKS_PER_S;
  } catch {
    return 0;
  }
}

export interface CpuWindow {
  wallS: number;
  /** CPU seconds the whole machine spent busy (all cores) */
  machineBusyS: number;
  /** of which spent by the processes the bench watched */
  benchS: number;
  /** busy time of everything else on the machine (other users' work), irq/softirq excluded */
  otherS: number;
  /** other work as a share of the machine's capacity over the window */
  otherPctOfMachine: number;
  /** hypervisor steal as a share of capacity */
  stealPct: number;
  /** irq + softirq as a share of capacity (kernel network processing, charged to no process) */
  irqPct: number;
  /** per watched process: CPU seconds, and the same as a share of one core */
  perProcess: Record<string, { cpuS: number; coresUsed: number }>;
  loadavgAtEnd: number[];
}

/** Watches the machine and a set of named processes from now until `stop()`. */
export function cpuWindow(procs: () => Record<string, number | undefined>) {
  const t0 = performance.now();
  const m0 = machineTicks();
  const start = new Map<string, number>();
  const sample = () => {
    const out = new Map<string, number>();
    for (const [name, pid] of Object.entries(procs())) if (pid) out.set(name, processSeconds(pid));
    return out;
  };
  for (const [k, v] of sample()) start.set(k, v);
  return {
    stop(): CpuWindow {
      const wallS = (performance.now() - t0) / 1000;
      const m1 = machineTicks();
      const perProcess: CpuWindow["perProcess"] = {};
      let benchS = 0;
      for (const [name, s] of sample()) {
        const cpuS = Math.max(0, s - (start.get(name) ?? 0));
        benchS += cpuS;
        perProcess[name] = { cpuS: round(cpuS), coresUsed: round(cpuS / wallS) };
      }
      const machineBusyS = m0 && m1 ? (m1.busy - m0.busy) / TICKS_PER_S : Number.NaN;
      const capacityS = m0 && m1 ? (m1.total - m0.total) / TICKS_PER_S : Number.NaN;
      const irqS = m0 && m1 ? (m1.irq - m0.irq) / TICKS_PER_S : 0;
      const otherS = Math.max(0, machineBusyS - benchS - irqS);
      return {
        wallS: round(wallS),
        machineBusyS: round(machineBusyS),
        benchS: round(benchS),
        otherS: round(otherS),
        otherPctOfMachine: round((100 * otherS) / capacityS),
        stealPct: m0 && m1 ? round((100 * (m1.steal - m0.steal)) / (m1.total - m0.total)) : Number.NaN,
        irqPct: round((100 * irqS) / capacityS),
        perProcess,
        loadavgAtEnd: loadavg().map((x) => round(x)),
      };
    },
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Share of the machine busy over `ms`, from /proc/stat. */
export async function busyPct(ms = 2_000): Promise<number> {
  const a = machineTicks();
  await new Promise((r) => setTimeout(r, ms));
  const b = machineTicks();
  if (!a || !b || b.total === a.total) return 0;
  return (100 * (b.busy - a.busy)) / (b.total - a.total);
}

/**
 * Waits (up to `maxWaitS`) until the machine has been mostly idle for a few seconds, so a
 * measurement does not start in the middle of someone else's build. Returns how busy it was.
 */
export async function waitForQuiet(
  maxBusyPct: number,
  maxWaitS: number,
): Promise<{ busyPct: number; waitedS: number }> {
  const t0 = Date.now();
  let busy = await busyPct(3_000);
  for (let i = 0; busy > maxBusyPct && (Date.now() - t0) / 1000 < maxWaitS; i++) {
    if (i % 10 === 0)
      note(`machine ${busy.toFixed(0)}% busy with other work; waiting for ≤ ${maxBusyPct}% (up to ${maxWaitS} s)...`);
    busy = await busyPct(3_000);
  }
  return { busyPct: Math.round(busy), waitedS: Math.round((Date.now() - t0) / 1000) };
}
