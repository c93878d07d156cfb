import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tarStream from 'tar-stream';

/**
 * tar-stream's packer, made safe for binary extended attributes: it writes
 * PAX records as UTF-8 text, which would turn the bytes >= 0x80 of a
 * `security.capability` value into two bytes each. Values of xattr records
 * are passed as latin1 strings (one char per byte, as the image store's
 * reader decodes them) and written back as those exact bytes; every other
 * record is written as before. Patched once per process.
 */

const XATTR_PREFIX = 'SCHILY.xattr.';

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
    parts.push(record(key, Buffer.from(value, key.startsWith(XATTR_PREFIX) ? 'latin1' : 'utf8')));
  }
  return Buffer.concat(parts);
}

let patched = false;

function patchOnce(): void {
  if (patched) return;
  const require = createRequire(import.meta.url);
  const headers = require(join(dirname(require.resolve('tar-stream')), 'headers.js')) as { encodePax: typeof encodePaxBinarySafe };
  if (typeof headers.encodePax !== 'function') throw new Error('tar-stream internals changed: headers.encodePax is missing');
  headers.encodePax = encodePaxBinarySafe;
  patched = true;
}

patchOnce();

export const tarPack = (): tarStream.Pack => tarStream.pack();
export type TarHeader = tarStream.Header;

/** PAX records for xattrs (name → exact bytes). */
export function xattrPax(xattrs: ReadonlyMap<string, Buffer>): Record<string, string> | undefined {
  if (xattrs.size === 0) return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of xattrs) out[`${XATTR_PREFIX}${name}`] = value.toString('latin1');
  return out;
}
