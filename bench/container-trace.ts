/**
 * `container-start.js --trace`: where the engine rows' time goes.
 *
 * 1. A timeline per run from the kernel's scheduler and syscall tracepoints
 *    (`perf record -a -k CLOCK_MONOTONIC`, cheap enough not to move what it
 *    measures), lined up with marks this process takes on the same clock
 *    around create, start, wait and remove: the median of each phase, from
 *    the call to start() to the moment waitExit() sees the exit.
 * 2. The system calls of a run, every process of it together, and their
 *    counts, from `strace -f -c` (its times are ptrace's, several times the
 *    real ones; the counts are what it is for).
 *
 * The phases (the helper's processes: the start helper, its monitor, the
 * container's PID 1, which execs the helper's stage 2 and then the command):
 * Node's work before the helper runs; the helper until it forks the monitor;
 * the monitor until its clone(2) of PID 1; the clone (the new namespaces);
 * PID 1 until pivot_root (the root's mounts); until stage 2's exec (the
 * process's privileges); stage 2 until the command's exec; the command; its
 * exit until the monitor's (the namespaces torn down, the exit record
 * written); the monitor's exit until waitExit() resolves.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

type Mark = [number, string];
export interface TraceRuntime {
  create(spec: object): Promise<string>;
  start(id: string): Promise<unknown>;
  waitExit(id: string): Promise<{ exitCode: number }>;
  remove(id: string): Promise<void>;
}

const SPEC = { image: 'busybox', cmd: ['/bin/busybox', 'true'], network: { mode: 'none' } };

const now = (): number => Number(process.hrtime.bigint()) / 1e9;

/** One lifecycle (create+start+exit+rm) and one start->exit of `warm`, with marks. */
async function cycle(rt: TraceRuntime, warm: string, marks: Mark[]): Promise<void> {
  const mark = (m: string) => marks.push([now(), m]);
  mark('lc:create');
  const id = await rt.create(SPEC);
  mark('lc:start');
  await rt.start(id);
  mark('lc:started');
  await rt.waitExit(id);
  mark('lc:exited');
  await rt.remove(id);
  mark('lc:removed');
  mark('s2e:start');
  await rt.start(warm);
  mark('s2e:started');
  await rt.waitExit(warm);
  mark('s2e:exited');
}

/** `runs` cycles while `tracer` records them; then it is stopped (SIGINT) and has written its file. */
async function cyclesUnder(tracer: ChildProcess, rt: TraceRuntime, warm: string, runs: number): Promise<Mark[]> {
  const marks: Mark[] = [];
  try {
    for (let i = 0; i < runs; i++) await cycle(rt, warm, marks);
  } finally {
    tracer.kill('SIGINT');
    await new Promise((r) => tracer.once('exit', r));
  }
  return marks;
}

interface Ev { pid: number; t: number; e: string; a: string; child?: number }

function parsePerf(file: string): Ev[] {
  const r = spawnSync('perf', ['script', '-i', file, '-F', 'pid,time,event,trace'], { maxBuffer: 1 << 28, encoding: 'utf8' });
  const out: Ev[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*(\d+)\s+([\d.]+):\s+(\S+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const ev: Ev = { pid: Number(m[1]), t: Number(m[2]), e: m[3]!, a: m[4]! };
    if (ev.e === 'sched:sched_process_fork') ev.child = Number(/child_pid=(\d+)/.exec(ev.a)?.[1]);
    out.push(ev);
  }
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;

/** The phases of one start, from the call to start() (t0) to waitExit() resolving (t2); start() returned at t1. */
function phasesOf(evs: Ev[], parent: Map<number, number>, t0: number, t1: number, t2: number): Array<[string, number]> | undefined {
  const win = evs.filter((x) => x.t >= t0 && x.t <= t2);
  const pivot = win.find((x) => x.e === 'syscalls:sys_enter_pivot_root');
  if (!pivot) return undefined;
  const init = pivot.pid;
  const monitor = parent.get(init);
  const helper = monitor === undefined ? undefined : parent.get(monitor);
  const at = (pred: (x: Ev) => boolean) => win.find(pred)?.t;
  const helperRuns = at((x) => x.e === 'sched:sched_process_exec' && x.pid === helper) ?? at((x) => x.e === 'sched:sched_process_fork' && x.child === helper);
  const monitorForked = at((x) => x.e === 'sched:sched_process_fork' && x.child === monitor);
  const cloneEnter = at((x) => x.e === 'syscalls:sys_enter_clone' && x.pid === monitor);
  const initForked = at((x) => x.e === 'sched:sched_process_fork' && x.child === init);
  const execs = win.filter((x) => x.e === 'sched:sched_process_exec' && x.pid === init).map((x) => x.t);
  const initExit = at((x) => x.e === 'sched:sched_process_exit' && x.pid === init);
  const monitorExit = at((x) => x.e === 'sched:sched_process_exit' && x.pid === monitor);
  const points = [helperRuns, monitorForked, cloneEnter, initForked, execs[0], execs[1], initExit, monitorExit];
  if (points.some((p) => p === undefined)) return undefined;
  const [h, mf, ce, inf, s2, cmd, ie, me] = points as number[];
  const ms = (a: number, b: number) => (b - a) * 1000;
  return [
    ['Node, before the helper runs (lock, record, cgroup, config)', ms(t0, h)],
    ['helper: until it forks the monitor', ms(h, mf)],
    ['monitor: until clone(2) of PID 1', ms(mf, ce)],
    ['clone(2): the new namespaces', ms(ce, inf)],
    ['PID 1: the root\'s mounts, pivot, privileges', ms(inf, s2)],
    ['stage 2: until the command\'s exec', ms(s2, cmd)],
    ['the command (/bin/busybox true)', ms(cmd, ie)],
    ['PID 1\'s exit -> the monitor\'s (teardown, exit record)', ms(ie, me)],
    ['the monitor\'s exit -> waitExit() resolves', ms(me, t2)],
    ['(start() returns, after the command\'s exec)', ms(cmd, t1)],
    ['total: start() called -> waitExit() resolved', ms(t0, t2)],
  ];
}

function printPhases(label: string, rows: Array<Array<[string, number]>>): void {
  console.log(`\n${label}: median of ${rows.length} runs (ms)`);
  if (rows.length === 0) return;
  rows[0]!.forEach(([name], i) => console.log(`  ${median(rows.map((r) => r[i]![1])).toFixed(2).padStart(7)}  ${name}`));
}

async function perfTimeline(rt: TraceRuntime, warm: string, runs: number, dir: string): Promise<void> {
  if (spawnSync('perf', ['--version']).status !== 0) {
    console.log('perf is not installed (apt-get install linux-perf): no timeline');
    return;
  }
  const file = join(dir, 'perf.data');
  const events = 'sched:sched_process_fork,sched:sched_process_exec,sched:sched_process_exit,syscalls:sys_enter_pivot_root,syscalls:sys_enter_clone';
  const perf = spawn('perf', ['record', '-q', '-a', '-k', 'CLOCK_MONOTONIC', '-o', file, '-e', events], { stdio: ['ignore', 'ignore', 'inherit'] });
  await new Promise((r) => setTimeout(r, 1500)); // perf's set-up, before the first mark
  const marks = await cyclesUnder(perf, rt, warm, runs);
  const evs = parsePerf(file);
  rmSync(file, { force: true });
  const parent = new Map<number, number>();
  for (const x of evs) if (x.child !== undefined) parent.set(x.child, x.pid);
  const nodeSide: Record<string, number[]> = { create: [], remove: [] };
  const rows: Record<'lc' | 's2e', Array<Array<[string, number]>>> = { lc: [], s2e: [] };
  for (let i = 0; i < marks.length; i++) {
    const [t, m] = marks[i]!;
    if (m === 'lc:create') nodeSide.create!.push((marks[i + 1]![0] - t) * 1000);
    if (m === 'lc:exited') nodeSide.remove!.push((marks[i + 1]![0] - t) * 1000);
    if (m === 'lc:start' || m === 's2e:start') {
      const p = phasesOf(evs, parent, t, marks[i + 1]![0], marks[i + 2]![0]);
      if (p) rows[m === 'lc:start' ? 'lc' : 's2e'].push(p);
    }
  }
  printPhases('engine: start -> exit (a created container started again and again)', rows.s2e);
  printPhases('engine: the start -> exit of create+start+exit+rm', rows.lc);
  console.log(`  and around it: create ${median(nodeSide.create!).toFixed(2)} ms, remove ${median(nodeSide.remove!).toFixed(2)} ms (medians)`);
}

/** strace -f -c of `runs` lifecycles: the system calls by count, per run. */
async function syscallCounts(rt: TraceRuntime, warm: string, runs: number, dir: string, fresh: () => void): Promise<void> {
  if (spawnSync('strace', ['-V']).status !== 0) {
    console.log('strace is not installed: no system call counts');
    return;
  }
  fresh(); // a resident start server spawned before the trace would be outside it
  const file = join(dir, 'strace.txt');
  const st = spawn('strace', ['-f', '-c', '-o', file, '-p', String(process.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve) => st.stderr!.once('data', () => resolve())); // "Process N attached"
  await cyclesUnder(st, rt, warm, runs);
  const lines = readFileSync(file, 'utf8').split('\n');
  rmSync(file, { force: true });
  // "% time  seconds  usecs/call  calls  [errors]  syscall"
  const rows = lines.map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 5 && /^\d+$/.test(f[3]!) && f.at(-1) !== 'total').map((f) => [f.at(-1)!, f[3]!]);
  rows.sort((a, b) => Number(b[1]) - Number(a[1]));
  const total = rows.reduce((s, r) => s + Number(r[1]), 0);
  console.log(`\nsystem calls of one create+start+exit+rm and one start->exit, every process (${runs} of each traced; per pair):`);
  console.log(`  ${(total / runs).toFixed(0)} in all; the 25 most frequent:`);
  for (const r of rows.slice(0, 25)) console.log(`  ${(Number(r[1]) / runs).toFixed(1).padStart(7)}  ${r[0]}`);
}

export async function trace(rt: TraceRuntime, runs: number, dir: string, fresh: () => void): Promise<void> {
  const warm = await rt.create(SPEC);
  try {
    for (let i = 0; i < 3; i++) await cycle(rt, warm, []); // warm-up: caches, the start server
    console.log(`where the engine rows' time goes (perf timeline of ${runs} runs of each, then strace -c)`);
    await perfTimeline(rt, warm, runs, dir);
    await syscallCounts(rt, warm, Math.min(runs, 5), dir, fresh);
  } finally {
    await rt.remove(warm);
  }
}
