import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { UserError } from '../../../util/errors.js';

const SIGNALS = osConstants.signals as Record<string, number>;

/** "SIGTERM", "TERM", "term" or "15" → 15; anything else is the user's error, naming where it came from. */
export function parseSignal(value: string | number, what = 'signal'): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value > 0 && value < 65) return value;
    throw new UserError(`invalid ${what} ${value}`, 1, 'use a signal name such as SIGTERM or a number between 1 and 64');
  }
  const s = value.trim().toUpperCase();
  if (/^\d+$/.test(s)) return parseSignal(Number(s), what);
  const name = s.startsWith('SIG') ? s : `SIG${s}`;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
  if (rt) return 34 + Number(rt[1] ?? 0);
  const n = SIGNALS[name];
  if (n === undefined) throw new UserError(`invalid ${what} "${value}"`, 1, 'use a signal name such as SIGTERM, SIGINT, SIGKILL, or its number');
  return n;
}

export function signalName(n: number): string {
  return Object.entries(SIGNALS).find(([, v]) => v === n)?.[0] ?? String(n);
}

/**
 * Whether a process would act on the signal: it has a handler (SigCgt) or
 * blocks it to take it synchronously (SigBlk: sigwait, signalfd, tini), and
 * does not ignore it. For a namespace's PID 1 this is the whole story, since
 * the kernel drops signals whose action is the default. Undefined when the
 * process is gone.
 */
export function signalDisposition(pid: number, signal: number): { handled: boolean; ignored: boolean } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const mask = (key: string) => {
    const m = new RegExp(`^${key}:\\s*([0-9a-f]+)`, 'm').exec(status);
    return m ? BigInt('0x' + m[1]) : 0n;
  };
  const bit = 1n << BigInt(signal - 1);
  return {
    handled: ((mask('SigCgt') | mask('SigBlk')) & bit) !== 0n || (sigtimedwaitSet(pid) & bit) !== 0n,
    ignored: (mask('SigIgn') & bit) !== 0n,
  };
}

const RT_SIGTIMEDWAIT: Record<string, number> = { x64: 128, arm64: 137 };

/**
 * The set a process waits for in sigtimedwait/sigwaitinfo (tini, tsc-init).
 * While it waits, the kernel unblocks that set, so SigBlk reads empty: the
 * set is read from the syscall's first argument in the process's memory.
 */
function sigtimedwaitSet(pid: number): bigint {
  try {
    const fields = readFileSync(`/proc/${pid}/syscall`, 'utf8').trim().split(' ');
    if (Number(fields[0]) !== RT_SIGTIMEDWAIT[process.arch]) return 0n;
    const addr = BigInt(fields[1]!);
    const fd = openSync(`/proc/${pid}/mem`, 'r');
    try {
      const buf = Buffer.alloc(8);
      if (readSync(fd, buf, 0, 8, addr) !== 8) return 0n;
      return buf.readBigUInt64LE(0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return 0n;
  }
}
