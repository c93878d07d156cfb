import { createInterface } from 'node:readline/promises';
import type { ProcessIO } from '../engine/types.js';

/**
 * The terminal for an interactive process (`exec`, `run`): raw mode while it
 * runs (keys, Ctrl-C included, go to the container), the size passed on and
 * kept in sync, and everything restored afterwards however it ends.
 */
export async function withStdio<T>(o: { tty: boolean; stdin: boolean }, fn: (io: ProcessIO, onResize: (cb: (rows: number, cols: number) => void) => void) => Promise<T>): Promise<T> {
  const stdin = process.stdin;
  const raw = o.tty && stdin.isTTY;
  const resizeHandlers: ((rows: number, cols: number) => void)[] = [];
  const onWinch = () => {
    for (const h of resizeHandlers) h(process.stdout.rows || 24, process.stdout.columns || 80);
  };
  if (raw) stdin.setRawMode(true);
  if (o.tty) process.stdout.on('resize', onWinch);
  try {
    const io: ProcessIO = {
      stdin: o.stdin ? stdin : undefined,
      stdout: process.stdout,
      stderr: process.stderr,
      tty: o.tty,
      size: o.tty ? { rows: process.stdout.rows || 24, cols: process.stdout.columns || 80 } : undefined,
    };
    return await fn(io, (cb) => resizeHandlers.push(cb));
  } finally {
    if (raw) stdin.setRawMode(false);
    if (o.tty) process.stdout.off('resize', onWinch);
    if (o.stdin) {
      stdin.pause();
      // A piped stdin keeps the event loop alive otherwise.
      stdin.unref?.();
    }
  }
}

/** Asks a yes/no question on the terminal (default no). */
export async function confirm(question: string, output: NodeJS.WritableStream = process.stderr): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** While a foreground container runs, ^C and kill signals are the helper's to pass on, not ours to die of. */
export function holdSignals(): () => void {
  const ignore = () => undefined;
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
  for (const s of sigs) process.on(s, ignore);
  return () => {
    for (const s of sigs) process.off(s, ignore);
  };
}

/** Reads a password from stdin (login --password-stdin), without its last newline; asks for it on a terminal. */
export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question('Password: ');
    } finally {
      rl.close();
    }
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
