import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCacheDir, pruneOldest } from '../../../util/cache-dir.js';
import { statePath } from '../../../util/paths.js';
import { helperDir } from './helper.js';
import { defaultSeccompFilter, helperSyscallTableText, parseSyscallTable, SECCOMP_COMPILER_VERSION } from './seccomp.js';
import { DEFAULT_PROFILE } from './seccomp-profile.js';

/**
 * Compiled seccomp filters kept across processes: compiling the default
 * profile for a capability set cost every CLI `container run` ~25 M
 * instructions (parsing the helper's 1100-line syscall table, the range
 * search, the assembler), for bytes that only these inputs decide:
 *
 * - the compiler (SECCOMP_COMPILER_VERSION, bumped with any change to it),
 * - the profile (a digest of DEFAULT_PROFILE's data),
 * - the helper's syscall table (a digest of its text: the ABI and the
 *   architecture come from it),
 * - the capability mask.
 *
 * The key is the sha256 of all four. An entry is `key (32 bytes) · sha256 of
 * the filter (32 bytes) · the filter`; it is installed only when it is a
 * regular file owned by this user and writable by no one else, holds this
 * very key, its digest matches, and its length is a whole, non-zero number of
 * 8-byte instructions within the kernel's 4096. Anything else (a torn write, a
 * flipped bit, an entry copied from another key, a planted file) is a miss:
 * the filter is compiled and the entry written again. The digest finds
 * corruption, not forgery: what keeps a forged entry out is the directory
 * (root's, 0700, in the root-only state root) and the owner and mode checks;
 * whoever can write there is root already. Nothing is synced: a crash can
 * only cost an entry, which then fails its digest.
 *
 * Where: the state root's cache/seccomp (0700; entries 0600), made only when
 * the state root exists, as the validated models' cache.
 */

const MAX_INSTRUCTIONS = 4096;
const HEADER = 64;
/** Past this many entries a new one removes the oldest (a capability set each, and old builds' keys). */
export const MAX_ENTRIES = 64;

export interface SeccompKeyInputs {
  compilerVersion: number;
  profileDigest: string;
  tableDigest: string;
  capabilities: bigint;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest();

let profileDigest: string | undefined;

/** The default profile's data as a digest (bigints written as such: JSON has none). */
export function defaultProfileDigest(): string {
  profileDigest ??= sha256(JSON.stringify(DEFAULT_PROFILE, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))).toString('hex');
  return profileDigest;
}

/** Every input, each in a field of its own, so that no two sets of inputs write the same text. */
export function seccompCacheKey(k: SeccompKeyInputs): Buffer {
  return sha256(`tscompose seccomp filter\0compiler ${k.compilerVersion}\0profile ${k.profileDigest}\0table ${k.tableDigest}\0caps ${k.capabilities.toString(16)}`);
}

export interface SeccompFilterSource {
  /** Where the entries are (default: the state root's cache/seccomp). */
  dir?: string;
  /** The helper whose syscall table numbers the filter (default: this process's). */
  helper?: string;
}

/** The default profile's filter for `capabilities`, from the cache when a valid entry is there; `from` says which. */
export function cachedSeccompFilter(capabilities: bigint, source: SeccompFilterSource = {}): { filter: Buffer; from: 'cache' | 'compiler' } {
  const helper = source.helper ?? helperDir();
  const dir = source.dir ?? statePath('cache', 'seccomp');
  const text = helperSyscallTableText(helper);
  const key = seccompCacheKey({ compilerVersion: SECCOMP_COMPILER_VERSION, profileDigest: defaultProfileDigest(), tableDigest: sha256(text).toString('hex'), capabilities });
  const path = join(dir, `${key.toString('hex')}.bpf`);
  const cached = readEntry(path, key);
  if (cached) return { filter: cached, from: 'cache' };
  const filter = defaultSeccompFilter(capabilities, parseSyscallTable(text, join(helper, 'syscalls')));
  writeEntry(dir, path, key, filter);
  return { filter, from: 'compiler' };
}

/** The entry's filter when every check passes, else undefined. */
function readEntry(path: string, key: Buffer): Buffer | undefined {
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink planted in the cache is not followed to some other file.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    const uid = process.geteuid?.() ?? 0;
    if (!st.isFile() || st.uid !== uid || (st.mode & 0o022) !== 0) return undefined;
    const size = st.size - HEADER;
    if (size <= 0 || size % 8 !== 0 || size > MAX_INSTRUCTIONS * 8) return undefined;
    const buf = Buffer.alloc(st.size);
    if (readSync(fd, buf, 0, buf.length, 0) !== buf.length) return undefined;
    const filter = buf.subarray(HEADER);
    if (!buf.subarray(0, 32).equals(key) || !buf.subarray(32, HEADER).equals(sha256(filter))) return undefined;
    return filter;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Written whole under a temporary name and renamed into place; any error leaves the cache as it was. */
function writeEntry(dir: string, path: string, key: Buffer, filter: Buffer): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    // The directory and its parent, never more: the state root itself is the engine's to make.
    makeCacheDir(dir);
    rmSync(tmp, { force: true }); // one a crashed process of the same pid left
    writeFileSync(tmp, Buffer.concat([key, sha256(filter), filter]), { mode: 0o600, flag: 'wx' });
    renameSync(tmp, path);
    pruneOldest(dir, MAX_ENTRIES, (n) => n.endsWith('.bpf'));
  } catch {
    rmSync(tmp, { force: true });
  }
}
