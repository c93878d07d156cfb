import { readFileSync } from 'node:fs';
import type { TopResult } from './types.js';

/**
 * `top`: the container's processes in `ps -ef`'s columns, read from /proc
 * (host pids, as Docker shows them), without spawning ps.
 */
const CLK_TCK = 100;

function hostUsers(): Map<number, string> {
  const users = new Map<number, string>();
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 2) users.set(Number(f[2]), f[0]!);
    }
  } catch { /* numeric uids then */ }
  return users;
}

function bootTimeMs(): number {
  const m = /^btime (\d+)/m.exec(readFileSync('/proc/stat', 'utf8'));
  return m ? Number(m[1]) * 1000 : 0;
}

function clock(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return [h, m, s].map((v) => String(v).padStart(2, '0')).join(':');
}

function tty(nr: number): string {
  const major = (nr >> 8) & 0xfff;
  const minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
  if (nr === 0) return '?';
  if (major === 136) return `pts/${minor}`;
  if (major === 4) return `tty${minor}`;
  return '?';
}

export function topProcesses(pids: number[]): TopResult {
  const users = hostUsers();
  const boot = bootTimeMs();
  const now = Date.now();
  const rows: Array<{ pid: number; row: string[] }> = [];
  for (const pid of pids) {
    let stat: string;
    let status: string;
    let cmdline: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(f[1]);
    const ttyNr = Number(f[4]);
    const cpuTicks = Number(f[11]) + Number(f[12]);
    const startMs = boot + (Number(f[19]) / CLK_TCK) * 1000;
    const uid = Number(/^Uid:\s*(\d+)/m.exec(status)?.[1] ?? 0);
    const elapsed = Math.max(1, (now - startMs) / 1000);
    const start = new Date(startMs);
    const stime = now - startMs < 24 * 3600_000
      ? `${String(start.getHours()).padStart(2, '0')}:${String(start.getMinutes()).padStart(2, '0')}`
      : start.toLocaleString('en-US', { month: 'short', day: '2-digit' }).replace(' ', '');
    const cmd = cmdline ? cmdline.replace(/\0$/, '').split('\0').join(' ') : `[${comm}]`;
    rows.push({
      pid,
      row: [users.get(uid) ?? String(uid), String(pid), String(ppid), String(Math.floor((cpuTicks / CLK_TCK / elapsed) * 100)), stime, tty(ttyNr), clock(cpuTicks / CLK_TCK), cmd],
    });
  }
  rows.sort((a, b) => a.pid - b.pid);
  return { Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], Processes: rows.map((r) => r.row) };
}
