import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { processStartTime } from '../../../util/lock.js';
import { deriveStatus, type DerivedStatus } from './store.js';
import { signalDisposition } from './signals.js';
import { waitNotRunning } from './wait.js';
import type { CgroupDriver } from './cgroups/index.js';

/**
 * Stop, as Docker does it, minus the pointless wait: send the stop signal,
 * give the grace period, then SIGKILL everything in the container. When PID
 * 1 cannot act on the signal at all (no handler, per /proc/PID/status; the
 * kernel drops default-action signals to a namespace's init), waiting for it
 * is pointless: the signal goes to the processes that do handle it, we wait
 * for those only, then kill. Exit codes follow Docker: 128 + signal.
 */

export interface StopPlan {
  /** Signal PID 1 and wait for the container. */
  pid1Handles: boolean;
  /** Other processes that would act on the signal. */
  handlers: number[];
}

/** Sends `signal` to a pid only if it is still the process we think it is. */
export function signalIfSame(pid: number, start: string | undefined, signal: number): boolean {
  if (start !== undefined && start !== '' && processStartTime(pid) !== start) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

export function planStop(pid1: number, signal: number, cgroupPids: number[]): StopPlan {
  const d = signalDisposition(pid1, signal);
  const handlers = cgroupPids.filter((p) => {
    if (p === pid1) return false;
    const dp = signalDisposition(p, signal);
    return dp !== undefined && dp.handled && !dp.ignored;
  });
  return { pid1Handles: d !== undefined && d.handled && !d.ignored, handlers };
}

/** Gone, reused, or a zombie (a PID 1 that never waits leaves its dead children as zombies). */
function isGone(pid: number, start: string | undefined): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[0] === 'Z' || fields[0] === 'X' || fields[19] !== start;
}

async function allGone(pids: number[], starts: Map<number, string | undefined>, deadline: number): Promise<boolean> {
  for (;;) {
    if (pids.every((p) => isGone(p, starts.get(p)))) return true;
    if (Date.now() >= deadline) return false;
    await sleep(10);
  }
}

export async function stopContainer(id: string, cgroups: CgroupDriver, opts: { signal: number; timeoutSec: number }): Promise<DerivedStatus> {
  const st = deriveStatus(id);
  if (st.status !== 'running' || !st.monitor) return st;
  const pid1 = st.pid;
  const pid1Start = st.monitor.initStart;
  const graceMs = opts.timeoutSec < 0 ? undefined : opts.timeoutSec * 1000;
  const deadline = graceMs === undefined ? Infinity : Date.now() + graceMs;

  if (opts.signal !== 9) {
    const plan = planStop(pid1, opts.signal, cgroups.pids(id));
    if (plan.pid1Handles) {
      if (signalIfSame(pid1, pid1Start, opts.signal)) {
        const exited = await waitNotRunning(id, graceMs);
        if (exited) return exited;
      }
    } else if (plan.handlers.length) {
      const starts = new Map(plan.handlers.map((p) => [p, processStartTime(p)]));
      for (const p of plan.handlers) signalIfSame(p, starts.get(p), opts.signal);
      // Whoever handles it gets the grace period to finish; when they are all done, so are we.
      const race = await Promise.race([
        allGone(plan.handlers, starts, deadline).then(() => undefined),
        waitNotRunning(id, graceMs),
      ]);
      if (race) return race;
    }
  }
  return killContainer(id, cgroups);
}

/** SIGKILL PID 1 (which takes its whole pid namespace with it), then anything left in the cgroup. */
export async function killContainer(id: string, cgroups: CgroupDriver): Promise<DerivedStatus> {
  const st = deriveStatus(id);
  if (st.status === 'running' && st.monitor) signalIfSame(st.pid, st.monitor.initStart, 9);
  await cgroups.killAll(id);
  return (await waitNotRunning(id))!;
}
