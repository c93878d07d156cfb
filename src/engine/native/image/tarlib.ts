import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as TarStream from 'tar-stream';

/**
 * tar-stream, with one fix applied once per process: it decodes and encodes
 * every PAX record value as UTF-8, which mangles binary extended attributes
 * such as `SCHILY.xattr.security.capability` (bytes >= 0x80 become U+FFFD on
 * reading, two bytes each on writing). Values of xattr records are decoded as
 * latin1 instead, so each char is one byte and `Buffer.from(value, 'latin1')`
 * gives the exact bytes back; on writing, such latin1 strings are written
 * back as those exact bytes. Every other record is handled as before. The test suite
 * round-trips a capability with such bytes, so a tar-stream upgrade that
 * changes its internals fails loudly rather than silently corrupting.
 */

const XATTR_PREFIXES = ['SCHILY.xattr.', 'LIBARCHIVE.xattr.'];

type PaxDecoder = (buf: Uint8Array) => Record<string, string>;
type PaxEncoder = (opts: { name?: string; linkname?: string; pax?: Record<string, string> }) => Buffer;

function decodePaxBinarySafe(buf: Uint8Array): Record<string, string> {
  const result: Record<string, string> = {};
  let b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  while (b.length) {
    let i = 0;
    while (i < b.length && b[i] !== 32) i++;
    const len = parseInt(b.subarray(0, i).toString('latin1'), 10);
    if (!len || len > b.length) return result;
    const record = b.subarray(i + 1, len - 1);
    const eq = record.indexOf(61 /* = */);
    if (eq === -1) return result;
    const key = record.subarray(0, eq).toString('utf8');
    const raw = record.subarray(eq + 1);
    result[key] = XATTR_PREFIXES.some((p) => key.startsWith(p)) ? raw.toString('latin1') : raw.toString('utf8');
    b = b.subarray(len);
  }
  return result;
}

function record(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let digits = String(body.length).length;
  if (body.length + digits >= 10 ** digits) digits++;
  return Buffer.concat([Buffer.from(String(body.length + digits)), body]);
}

function encodePaxBinarySafe(opts: { name?: string; linkname?: string; pax?: Record<string, string> }): Buffer {
  const parts: Buffer[] = [];
  if (opts.name) parts.push(record('path', Buffer.from(opts.name, 'utf8')));
  if (opts.linkname) parts.push(record('linkpath', Buffer.from(opts.linkname, 'utf8')));
  for (const [key, value] of Object.entries(opts.pax ?? {})) {
    parts.push(record(key, Buffer.from(value, XATTR_PREFIXES.some((p) => key.startsWith(p)) ? 'latin1' : 'utf8')));
  }
  return Buffer.concat(parts);
}

let loaded: typeof TarStream | undefined;

/**
 * tar-stream, loaded and patched at first use: loading it (and streamx, b4a,
 * fast-fifo) executes ~55 M instructions (callgrind, `node -e` with and
 * without the require), 13 % of a no-op `up`, which packs and unpacks nothing.
 */
function tarStream(): typeof TarStream {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const module = require('tar-stream') as typeof TarStream;
  const headers = require(join(dirname(require.resolve('tar-stream')), 'headers.js')) as { decodePax: PaxDecoder; encodePax: PaxEncoder };
  if (typeof headers.decodePax !== 'function' || typeof headers.encodePax !== 'function') {
    throw new Error('tar-stream internals changed: headers.decodePax or headers.encodePax is missing');
  }
  headers.decodePax = decodePaxBinarySafe;
  headers.encodePax = encodePaxBinarySafe;
  return (loaded = module);
}

/** tar-stream's extract and pack, patched as above. */
export const tar = {
  extract: (opts?: Parameters<typeof TarStream.extract>[0]): TarStream.Extract => tarStream().extract(opts),
  pack: (opts?: Parameters<typeof TarStream.pack>[0]): TarStream.Pack => tarStream().pack(opts),
};
export type TarHeader = TarStream.Header;
export type TarEntryHeader = Partial<TarStream.Header> & { name: string };

/** A small tar built in memory: each entry is a header, with its content for files. */
export async function packToBuffer(entries: Iterable<{ header: TarEntryHeader; content?: Buffer }>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => { chunks.push(c as Buffer); });
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const { header, content } of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (content) pack.entry(header, content, cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** The extended attributes a PAX header carries, name → exact bytes. */
export function paxXattrs(header: TarHeader): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const pax = header.pax as Record<string, string> | null | undefined;
  if (!pax) return out;
  for (const [key, value] of Object.entries(pax)) {
    if (key.startsWith('SCHILY.xattr.')) {
      out.set(key.slice('SCHILY.xattr.'.length), Buffer.from(value, 'latin1'));
    } else if (key.startsWith('LIBARCHIVE.xattr.')) {
      // libarchive URL-encodes the name and base64-encodes the value.
      out.set(decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length)), Buffer.from(value, 'base64'));
    }
  }
  return out;
}

/** PAX records for xattrs (name → exact bytes). */
export function xattrPax(xattrs: ReadonlyMap<string, Buffer>): Record<string, string> | undefined {
  if (xattrs.size === 0) return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of xattrs) out[`${XATTR_PREFIXES[0]}${name}`] = value.toString('latin1');
  return out;
}
