import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readLogs } from '../../src/engine/native/runtime/logs.js';
import type { LogEntry } from '../../src/engine/native/runtime/types.js';

/**
 * `logs --tail N` reads the log from its end, in chunks, across the rotated
 * files (a tail of a 20 MB log once read and parsed all of it). Checked
 * against the plain definition — every record parsed, filtered, and the last
 * N lines kept, a line being partial records up to a complete one — on logs
 * made to cross every boundary: records longer than a read chunk, partial
 * records, tails that reach into the rotated files, a record still being
 * written, a time filter.
 */

let root: string;
const saved = process.env.TSCOMPOSE_ROOT;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tsc-log-tail-'));
  process.env.TSCOMPOSE_ROOT = root;
});
afterAll(() => {
  if (saved === undefined) delete process.env.TSCOMPOSE_ROOT;
  else process.env.TSCOMPOSE_ROOT = saved;
  rmSync(root, { recursive: true, force: true });
});

interface Rec { time: string; stream: 'stdout' | 'stderr'; partial: boolean; line: string }

/** A deterministic pseudo-random log: mostly short lines, some partial records, a few longer than 64 KiB. */
function makeRecords(count: number, seed: number): Rec[] {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out: Rec[] = [];
  for (let i = 0; i < count; i++) {
    const r = rnd();
    const len = r < 0.01 ? 70_000 + Math.floor(rnd() * 20_000) : Math.floor(rnd() * 120);
    const ms = String(i % 1000).padStart(3, '0');
    out.push({
      time: `2026-12-06T10:${String(Math.floor(i / 60000) % 60).padStart(2, '0')}:${String(Math.floor(i / 1000) % 60).padStart(2, '0')}.${ms}000001Z`,
      stream: rnd() < 0.2 ? 'stderr' : 'stdout',
      partial: rnd() < 0.1,
      line: `${i}:` + 'x'.repeat(len),
    });
  }
  return out;
}

const text = (rs: Rec[]) => rs.map((r) => `${r.time} ${r.stream} ${r.partial ? 'P' : 'F'} ${r.line}\n`).join('');

/** The definition: filter, then the last n lines (the newest record always ends one). */
function expected(rs: Rec[], n: number, since?: number): Rec[] {
  const kept = since === undefined ? rs : rs.filter((r) => Date.parse(r.time.replace(/(\.\d{3})\d*Z$/, '$1Z')) >= since);
  const out: Rec[] = [];
  let ends = 0;
  for (let i = kept.length - 1; i >= 0; i--) {
    if (!kept[i]!.partial || out.length === 0) ends++;
    if (ends > n) break;
    out.unshift(kept[i]!);
  }
  return out;
}

async function tail(id: string, n: number, since?: number): Promise<Rec[]> {
  const got: LogEntry[] = [];
  for await (const e of readLogs(id, { tail: n, since })) got.push(e);
  return got.map((e) => ({ time: e.time, stream: e.stream as Rec['stream'], partial: e.partial, line: e.line }));
}

function writeLog(id: string, files: Rec[][], unfinished = '', gzip = false): void {
  const dir = join(root, 'containers', id);
  mkdirSync(dir, { recursive: true });
  // files[0] is the oldest: container.log.(k-1) ... container.log.1, container.log; rotated ones gzipped
  // as the `compress` option has the monitor write them.
  files.forEach((rs, i) => {
    const age = files.length - 1 - i;
    if (age === 0) writeFileSync(join(dir, 'container.log'), text(rs) + unfinished);
    else if (gzip) writeFileSync(join(dir, `container.log.${age}.gz`), gzipSync(text(rs)));
    else writeFileSync(join(dir, `container.log.${age}`), text(rs));
  });
}

describe('logs --tail on the native engine', () => {
  const records = makeRecords(6000, 7);

  it('equals the whole-log definition for every size of tail, in one file', async () => {
    writeLog('one', [records]);
    for (const n of [0, 1, 2, 3, 10, 57, 999, 5999, 6000, 10_000]) expect(await tail('one', n), `tail ${n}`).toEqual(expected(records, n));
  });

  it('reaches back into the rotated files, oldest last', async () => {
    writeLog('rotated', [records.slice(0, 2000), records.slice(2000, 2001), records.slice(2001, 4500), records.slice(4500)]);
    for (const n of [5, 1400, 1500, 1600, 3000, 4000, 6000, 7000]) expect(await tail('rotated', n), `tail ${n}`).toEqual(expected(records, n));
  });

  it('reads gzipped rotated files (compress), and the plain one while both exist', async () => {
    const files = [records.slice(0, 2000), records.slice(2000, 4500), records.slice(4500)];
    writeLog('gzipped', files, '', true);
    for (const n of [5, 1400, 1600, 4000, 7000]) expect(await tail('gzipped', n), `tail ${n}`).toEqual(expected(records, n));
    const all: LogEntry[] = [];
    for await (const e of readLogs('gzipped')) all.push(e);
    expect(all.map((e) => e.line)).toEqual(records.map((r) => r.line));
    // The monitor compressing container.log.1: the plain file is whole, its .gz may be half-written.
    const dir = join(root, 'containers', 'gzipped');
    writeFileSync(join(dir, 'container.log.1'), text(files[1]!));
    writeFileSync(join(dir, 'container.log.1.gz'), gzipSync(text(files[1]!)).subarray(0, 100));
    expect(await tail('gzipped', 3000)).toEqual(expected(records, 3000));
  });

  it('leaves out a record still being written, and applies a since filter before counting', async () => {
    writeLog('writing', [records.slice(0, 3000), records.slice(3000)], '2026-12-06T10:59:59.000000001Z stdout F half a rec');
    expect(await tail('writing', 20)).toEqual(expected(records, 20));
    const since = Date.parse('2026-12-06T10:00:03.500Z');
    for (const n of [5, 100, 2600, 6000]) expect(await tail('writing', n, since), `tail ${n} since`).toEqual(expected(records, n, since));
  });

  it('counts a last record that no newline ended (a partial one) as a line of its own', async () => {
    const open = [...records.slice(0, 50), { ...records[50]!, partial: true }, { ...records[51]!, partial: true }];
    writeLog('open-line', [open]);
    for (const n of [1, 2, 3]) expect(await tail('open-line', n), `tail ${n}`).toEqual(expected(open, n));
    expect((await tail('open-line', 1)).map((r) => r.line)).toEqual([records[50]!.line, records[51]!.line]);
  });

  it('reads an empty or missing log as empty', async () => {
    writeLog('empty', [[]]);
    expect(await tail('empty', 10)).toEqual([]);
    mkdirSync(join(root, 'containers', 'none'), { recursive: true });
    expect(await tail('none', 10)).toEqual([]);
  });
});
