/**
 * Where a command's time goes, as a timeline: every process it starts (and
 * every process those start) with the time of its exec and of its exit, and
 * each connection to a Unix socket (the network daemon's), in milliseconds
 * from the command's start. strace with a seccomp filter stops the command
 * only at the traced calls, so the timeline is close to an untraced run's.
 * Benches print it with `--trace`, once per row, before timing anything.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Seconds since midnight with microseconds, as `strace -tt` prints it. */
function secondsOf(stamp: string): number {
  const [h, m, s] = stamp.split(':').map(Number);
  return h! * 3600 + m! * 60 + s!;
}

function describe(call: string): string | undefined {
  const exec = /^execve\("([^"]+)", \[(.*?)\](?:, 0x| \/\*|\))/.exec(call);
  if (exec) {
    if (call.includes('= -1 ')) return undefined; // a PATH lookup that missed
    const argv = exec[2]!.split('", "').map((a) => a.replace(/^"|"$/g, ''));
    return `exec ${argv.slice(0, 6).join(' ').slice(0, 110)}`;
  }
  const unix = /^connect\(\d+, \{sa_family=AF_UNIX, sun_path="([^"]+)"/.exec(call);
  if (unix) return `connect ${unix[1]}${call.includes('= -1 ') ? ' (refused)' : ''}`;
  const exited = /^\+\+\+ exited with (\d+)/.exec(call);
  if (exited) return `exit ${exited[1]}`;
  return undefined;
}

/** Runs the command once under strace and returns its timeline, one line per event. */
export function traceCommand(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-bench-trace-'));
  try {
    const out = join(dir, 'trace');
    execFileSync('strace', ['-f', '--seccomp-bpf', '-tt', '-e', 'trace=execve,connect', '-e', 'signal=none', '-o', out, cmd, ...args], {
      env,
      stdio: 'ignore',
    });
    const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean);
    const t0 = secondsOf(lines[0]!.split(/\s+/)[1]!);
    const timeline: string[] = [];
    const execed = new Set<string>();
    for (const line of lines) {
      const m = /^(\d+)\s+(\S+)\s+(.*)$/.exec(line);
      if (!m) continue;
      const what = describe(m[3]!);
      if (!what) continue;
      // Threads exit too (Node's workers, libuv's pool): only the processes that ran a program count.
      if (what.startsWith('exec ')) execed.add(m[1]!);
      else if (what.startsWith('exit ') && !execed.has(m[1]!)) continue;
      const ms = (secondsOf(m[2]!) - t0) * 1000;
      timeline.push(`${ms.toFixed(1).padStart(8)} ms  [${m[1]}] ${what}`);
    }
    return timeline;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Prints a command's timeline under a heading. */
export function printTrace(heading: string, cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): void {
  console.log(`trace: ${heading}`);
  for (const line of traceCommand(cmd, args, env)) console.log(`  ${line}`);
}
