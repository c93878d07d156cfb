import type { ProcessIO } from '../../engine/types.js';

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

/** `-e KEY=VAL` / `-e KEY` (value from our environment, left out when unset), as docker takes them. */
export function parseEnvFlags(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    if (eq >= 0) out[v.slice(0, eq)] = v.slice(eq + 1);
    else if (process.env[v] !== undefined) out[v] = process.env[v]!;
  }
  return out;
}
