import { readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Reading and writing cgroup interface files, for both drivers. */

export function readWords(path: string): string[] | undefined {
  try {
    return readFileSync(path, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return undefined;
  }
}

/** A number file; "max", a missing file and v1's "unlimited" (about 2^63) read as undefined. */
export function readNumber(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
  if (text === 'max') return undefined;
  const n = Number(text);
  return n >= 2 ** 62 ? undefined : n;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control); missing keys read as absent. */
export function readKeyed(path: string): Map<string, number> {
  const out = new Map<string, number>();
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v !== undefined) out.set(k, Number(v));
  }
  return out;
}

export function tryWrite(path: string, text: string): boolean {
  try {
    writeFileSync(path, text);
    return true;
  } catch {
    return false;
  }
}

/** rmdir of a cgroup fails with EBUSY while the kernel is still tearing down its last task. */
export async function rmdirRetry(dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || i >= 200) throw err;
      await sleep(i < 20 ? 2 : 20);
    }
  }
}

/**
 * Whether the tasks of a kill loop's rounds show a fork: a pid not listed in an earlier round. A
 * container whose PID 1 was just killed only shrinks (the namespace dies with it); a fork bomb
 * shows new pids in the next round, and from then on the loop freezes before it kills.
 */
export class ForkWatch {
  private readonly known = new Set<number>();
  private rounds = 0;
  private forked = false;

  seen(pids: readonly number[]): boolean {
    if (this.rounds++ > 0 && pids.some((p) => !this.known.has(p))) this.forked = true;
    for (const p of pids) this.known.add(p);
    return this.forked;
  }
}
