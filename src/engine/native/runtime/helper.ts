import { spawn, type StdioOptions, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { UserError } from '../../../util/errors.js';
import type { ConfKey, EntryPoint, OpKind } from './helper-protocol.js';

/**
 * The native helper (native/): its location, its config format, and the
 * one-line replies it sends on fd 3. The config is one directive per line,
 * fields separated by spaces and escaped so that the C side needs no parser
 * beyond strtok: "\\" backslash, "\s" space, "\n" newline, "\t" tab, "\e" an
 * empty field.
 */
export function helperDir(): string {
  if (process.env.TSCOMPOSE_HELPER_DIR) return process.env.TSCOMPOSE_HELPER_DIR;
  // src/, dist/, dist/bundle/ and dist-bench/src/ sit at different depths under the package root: look
  // upwards. A checkout has native/ (built into native/build/ by `npm install`); the npm package has
  // the helpers built at pack time for each architecture it ships (scripts/prebuild-helpers.mjs).
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'native', 'Makefile'))) return join(dir, 'native', 'build');
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'dist', 'native'))) return join(dir, 'dist', 'native', shippedPlatform());
    dir = dirname(dir);
  }
  return fileURLToPath(new URL('../../../../native/build/', import.meta.url));
}

/** The architectures the npm package carries a helper for. */
export const SHIPPED_ARCHES: readonly string[] = ['x64', 'arm64'];

/** This machine's directory of prebuilt helpers, or the one sentence saying the package has none for it. */
export function shippedPlatform(platform: string = process.platform, arch: string = process.arch): string {
  if (platform !== 'linux' || !SHIPPED_ARCHES.includes(arch)) {
    throw new UserError(`tscompose's native engine runs on Linux on ${SHIPPED_ARCHES.join(' and ')}, and this is ${platform}-${arch}: use --backend docker to drive a Docker Engine instead`);
  }
  return `linux-${arch}`;
}

export function helperPath(name: 'tsc-helper' | 'tsc-init' = 'tsc-helper'): string {
  const path = `${helperDir().replace(/\/$/, '')}/${name}`;
  if (!existsSync(path)) {
    throw new UserError(`the native helper ${path} is not built`, 1, 'run `npm run build` (it needs gcc, make and libc6-dev)');
  }
  // A helper that is not an ELF file any more would not fail to start: the exec falls back to running it
  // with /bin/sh, as root, on the host. Refuse it instead.
  const magic = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, magic, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (!magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
    throw new UserError(`the native helper ${path} is damaged (not an ELF binary)`, 1, 'rebuild it: make -C native clean all');
  }
  return path;
}

export function escapeField(value: string | number | bigint): string {
  const s = String(value);
  if (s === '') return '\\e';
  if (s.includes('\0')) throw new UserError(`invalid value ${JSON.stringify(s)}: NUL bytes cannot be passed to a process`);
  return s.replace(/\\/g, '\\\\').replace(/ /g, '\\s').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}

/** A CONF for the helper, one directive a line (the keys and their fields: native/helper.h). */
export class HelperConfig {
  private readonly lines: string[] = [];

  add(key: ConfKey, ...fields: Array<string | number | bigint>): this {
    this.lines.push([key, ...fields.map(escapeField)].join(' '));
    return this;
  }

  /** A step of the root's setup, run in order inside the new root before the pivot. */
  op(kind: OpKind, ...fields: Array<string | number | bigint>): this {
    return this.add('op', kind, ...fields);
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

export interface HelperReply {
  ok: boolean;
  /** ok: the numbers after "ok" (pids); error: the exit code the failure maps to. */
  values: number[];
  code: number;
  message: string;
  /** ok: the words after "ok", as text. */
  text: string;
}

export function parseReply(line: string): HelperReply | undefined {
  const m = /^(ok|error|exit)\s*(.*)$/.exec(line);
  if (!m) return undefined;
  if (m[1] === 'ok') return { ok: true, values: m[2]!.split(' ').filter(Boolean).map(Number), code: 0, message: '', text: m[2]! };
  if (m[1] === 'exit') return { ok: true, values: [], code: Number(m[2]), message: 'exit', text: '' };
  const e = /^(\d+)\s*(.*)$/.exec(m[2]!);
  return { ok: false, values: [], code: e ? Number(e[1]) : 125, message: e ? e[2]! : m[2]!, text: '' };
}

/** A running helper: its first reply ("ok ..." or "error ..."), and for foreground runs the final "exit N". */
export interface HelperRun {
  child: ChildProcess;
  first: Promise<HelperReply>;
  /** Resolves with the "exit N" code (foreground modes), or the helper's own exit code. */
  done: Promise<number>;
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
  /** With `resize`: fd 5 of the helper, where "ROWS COLS\n" lines set the size of the process's terminal. */
  resize: Writable | null;
}

/** Where a config handed over on a pipe is read (fd 4 of the helper; fd 3 is its status line). */
const CONF_FD = 4;
/** Where window sizes are written with `resize` (native/helper.h's RESIZE_FD). */
const RESIZE_FD = 5;

/**
 * Runs the helper. `conf` is a config file's path or, as `{ text }`, a
 * config handed over on a pipe: exec and cp use that, so that no transient
 * config file exists to be left behind by a CLI killed mid-way or a
 * container removed under it.
 */
export function runHelper(
  args: [EntryPoint, string | { text: string }],
  stdio: [StdioOptions, StdioOptions, StdioOptions] | ['ignore', 'ignore', 'ignore'] = ['ignore', 'ignore', 'ignore'],
  opts: { resize?: boolean } = {},
): HelperRun {
  const [entry, conf] = args;
  const piped = typeof conf !== 'string';
  const extra = opts.resize ? [piped ? 'pipe' : 'ignore', 'pipe'] : piped ? ['pipe'] : [];
  const child = spawn(helperPath(), [entry, piped ? `/proc/self/fd/${CONF_FD}` : conf], { stdio: [...(stdio as unknown[]), 'pipe', ...extra] as StdioOptions });
  if (piped) {
    const confPipe = child.stdio[CONF_FD] as Writable;
    confPipe.on('error', () => undefined); // a helper that died early: its status line tells why
    confPipe.end(conf.text);
  }
  const resize = opts.resize ? ((child.stdio as unknown as Writable[])[RESIZE_FD] ?? null) : null;
  // A helper that exits while a size is on its way: the write fails with EPIPE, which is no error of ours.
  resize?.on('error', () => undefined);
  const status = child.stdio[3] as Readable;
  let buf = '';
  let firstReply: HelperReply | undefined;
  let exitReply: HelperReply | undefined;
  let resolveFirst!: (r: HelperReply) => void;
  const first = new Promise<HelperReply>((r) => (resolveFirst = r));
  status.setEncoding('utf8');
  status.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const reply = parseReply(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if (!reply) continue;
      if (!firstReply) {
        firstReply = reply;
        resolveFirst(reply);
      } else if (reply.message === 'exit') {
        exitReply = reply;
      }
    }
  });
  const done = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (!firstReply) {
        firstReply = { ok: false, values: [], code: 125, message: `the native helper ${signal ? `was killed by ${signal}` : `exited with ${code}`} without a reply`, text: '' };
        resolveFirst(firstReply);
      }
      resolve(exitReply ? exitReply.code : code ?? 125);
    });
  });
  return { child, first, done, stdin: child.stdin, stdout: child.stdout, stderr: child.stderr, resize };
}
