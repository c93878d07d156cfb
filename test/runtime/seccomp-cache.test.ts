import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveCapabilities } from '../../src/engine/native/runtime/caps.js';
import { helperDir } from '../../src/engine/native/runtime/helper.js';
import { defaultSeccompFilter, parseSyscallTable, SECCOMP_COMPILER_VERSION } from '../../src/engine/native/runtime/seccomp.js';
import { cachedSeccompFilter, defaultProfileDigest, seccompCacheKey, type SeccompKeyInputs } from '../../src/engine/native/runtime/seccomp-cache.js';

/**
 * The compiled seccomp filters kept across processes: a filter from the cache
 * must be the very bytes the compiler makes for the same inputs, an entry
 * that is not exactly what this process would have written is never
 * installed, and no two sets of inputs share an entry.
 */

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest();

const CAP_SETS = {
  default: resolveCapabilities({}),
  'cap_add SYS_ADMIN': resolveCapabilities({ capAdd: ['SYS_ADMIN'] }),
  'cap_add SYS_PTRACE, SYS_NICE': resolveCapabilities({ capAdd: ['SYS_PTRACE', 'SYS_NICE'] }),
  'cap_drop ALL': resolveCapabilities({ capDrop: ['ALL'] }),
  'cap_drop CHOWN, NET_RAW': resolveCapabilities({ capDrop: ['CHOWN', 'NET_RAW'] }),
  'cap_add ALL': resolveCapabilities({ capAdd: ['ALL'] }),
};

let root: string;
let cache: string;
let helper: string;
const source = () => ({ dir: cache, helper });
const fresh = (caps: bigint, helperPath = helper) => defaultSeccompFilter(caps, parseSyscallTable(readFileSync(join(helperPath, 'syscalls'), 'utf8'), 'test'));
const entries = () => readdirSync(cache).filter((n) => n.endsWith('.bpf'));
const onlyEntry = () => {
  const names = entries();
  expect(names).toHaveLength(1);
  return join(cache, names[0]!);
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tsc-seccomp-cache-'));
  mkdirSync(join(root, 'state', 'cache'), { recursive: true, mode: 0o700 });
  cache = join(root, 'state', 'cache', 'seccomp');
  // A helper directory of the test's own (the syscall table is all the filter reads from it): a table edited here is another helper build.
  helper = join(root, 'helper');
  mkdirSync(helper);
  copyFileSync(join(helperDir(), 'syscalls'), join(helper, 'syscalls'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('seccomp filter cache', () => {
  it('a cached filter is byte for byte the compiler\'s, for every capability set', () => {
    for (const [name, caps] of Object.entries(CAP_SETS)) {
      const compiled = cachedSeccompFilter(caps, source());
      const cached = cachedSeccompFilter(caps, source());
      expect([name, compiled.from, cached.from]).toEqual([name, 'compiler', 'cache']);
      expect(cached.filter.equals(fresh(caps)), name).toBe(true);
      expect(compiled.filter.equals(cached.filter), name).toBe(true);
    }
    expect(entries()).toHaveLength(Object.keys(CAP_SETS).length);
  });

  it('an entry is private to root: the directory 0700, the file 0600', () => {
    cachedSeccompFilter(CAP_SETS.default, source());
    const mode = (p: string) => statSync(p).mode & 0o777;
    expect([mode(cache), mode(onlyEntry())]).toEqual([0o700, 0o600]);
  });

  it('is not made where the state root is missing', () => {
    const nowhere = join(root, 'gone', 'cache', 'seccomp');
    expect(cachedSeccompFilter(CAP_SETS.default, { dir: nowhere, helper }).filter.equals(fresh(CAP_SETS.default))).toBe(true);
    expect(readdirSync(root).sort()).toEqual(['helper', 'state']);
  });

  describe('an entry that is not exactly what was written is compiled again, and the entry repaired', () => {
    const caps = CAP_SETS.default;
    const tamperings: Record<string, (path: string) => void> = {
      'a flipped bit in the filter': (p) => {
        const b = readFileSync(p);
        b[b.length - 3]! ^= 0x10;
        writeFileSync(p, b);
      },
      'a torn write (truncated)': (p) => writeFileSync(p, readFileSync(p).subarray(0, 64 + 8 * 10)),
      'a length that is no whole number of instructions (digest matching)': (p) => {
        const b = Buffer.concat([readFileSync(p), Buffer.from([0, 0, 0])]);
        sha256(b.subarray(64)).copy(b, 32);
        writeFileSync(p, b);
      },
      'an empty file': (p) => writeFileSync(p, ''),
      'the header alone (an empty filter with its digest)': (p) => {
        const b = readFileSync(p).subarray(0, 64);
        sha256(Buffer.alloc(0)).copy(b, 32);
        writeFileSync(p, b);
      },
      'another key\'s valid entry copied over it': (p) => {
        cachedSeccompFilter(CAP_SETS['cap_add SYS_ADMIN'], source());
        const other = entries().map((n) => join(cache, n)).find((q) => q !== p)!;
        copyFileSync(other, p);
        rmSync(other);
      },
      'a symlink to another key\'s entry': (p) => {
        cachedSeccompFilter(CAP_SETS['cap_add SYS_ADMIN'], source());
        const other = entries().map((n) => join(cache, n)).find((q) => q !== p)!;
        rmSync(p);
        symlinkSync(other, p);
        // The valid entry of the other key stays; only this one is checked below.
      },
      'a file another user owns': (p) => chownSync(p, 65534, 65534),
      'a file others may write': (p) => chmodSync(p, 0o666),
    };
    for (const [name, tamper] of Object.entries(tamperings)) {
      it(name, () => {
        cachedSeccompFilter(caps, source());
        const path = onlyEntry();
        const good = readFileSync(path);
        tamper(path);
        const again = cachedSeccompFilter(caps, source());
        expect(again.from).toBe('compiler');
        expect(again.filter.equals(fresh(caps))).toBe(true);
        // Written again whole, a regular private file: the next run reads it.
        expect(readFileSync(path).equals(good)).toBe(true);
        const next = cachedSeccompFilter(caps, source());
        expect([next.from, next.filter.equals(fresh(caps))]).toEqual(['cache', true]);
      });
    }
  });

  it('different inputs never share an entry: capabilities, syscall table', () => {
    for (const caps of Object.values(CAP_SETS)) cachedSeccompFilter(caps, source());
    expect(entries()).toHaveLength(Object.keys(CAP_SETS).length);
    // Another helper build whose table numbers one syscall differently: its own entry, its own bytes.
    const other = join(root, 'other-helper');
    mkdirSync(other);
    const table = readFileSync(join(helper, 'syscalls'), 'utf8');
    expect(table).toMatch(/^x86_64 getpid 39$/m);
    writeFileSync(join(other, 'syscalls'), table.replace(/^x86_64 getpid 39$/m, 'x86_64 getpid 999'));
    const mine = cachedSeccompFilter(CAP_SETS.default, source()).filter;
    const theirs = cachedSeccompFilter(CAP_SETS.default, { dir: cache, helper: other });
    expect(theirs.from).toBe('compiler');
    expect(theirs.filter.equals(fresh(CAP_SETS.default, other))).toBe(true);
    expect(theirs.filter.equals(mine)).toBe(false);
    expect(entries()).toHaveLength(Object.keys(CAP_SETS).length + 1);
  });

  it('the key changes with each input alone: compiler version, profile, table, capabilities', () => {
    const base: SeccompKeyInputs = {
      compilerVersion: SECCOMP_COMPILER_VERSION,
      profileDigest: defaultProfileDigest(),
      tableDigest: sha256('x86_64 read 0\n').toString('hex'),
      capabilities: CAP_SETS.default,
    };
    const variants: SeccompKeyInputs[] = [
      base,
      { ...base, compilerVersion: base.compilerVersion + 1 },
      { ...base, profileDigest: sha256('another profile').toString('hex') },
      { ...base, tableDigest: sha256('x86_64 read 1\n').toString('hex') },
      { ...base, capabilities: CAP_SETS['cap_drop ALL'] },
      { ...base, capabilities: base.capabilities ^ 1n },
    ];
    const keys = new Set(variants.map((v) => seccompCacheKey(v).toString('hex')));
    expect(keys.size).toBe(variants.length);
    expect(seccompCacheKey({ ...base }).equals(seccompCacheKey(base))).toBe(true);
  });
});
