import { runOk } from '../../../util/proc.js';
import { packToBuffer } from './tarlib.js';

/**
 * What Node cannot do itself while unpacking a layer, done in one child
 * process per layer rather than one per entry: device nodes, fifos and
 * overlay whiteouts (char 0:0) need mknod(2), which Node lacks, so they are
 * written into a small tar that GNU tar extracts in one go; extended
 * attributes need setxattr(2), also missing, so they go to one
 * `setfattr --restore` run. The caller has checked every path (relative to
 * the layer dir, no symlinked ancestor) before these run.
 */

export interface SpecialNode {
  type: 'character-device' | 'block-device' | 'fifo';
  major: number;
  minor: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
}

/** Creates the nodes under `dir` with their owners, modes and mtimes. */
export async function createSpecialNodes(dir: string, nodes: ReadonlyMap<string, SpecialNode>): Promise<void> {
  if (nodes.size === 0) return;
  const archive = await packToBuffer([...nodes].map(([rel, n]) => ({
    header: { name: rel, type: n.type, mode: n.mode & 0o7777, uid: n.uid, gid: n.gid, mtime: n.mtime, devmajor: n.major, devminor: n.minor, size: 0 },
  })));
  // -p and --same-owner are GNU tar's defaults for root; spelled out because they are the point.
  await runOk('tar', ['-x', '--numeric-owner', '--same-owner', '--same-permissions', '--no-overwrite-dir', '-C', dir, '-f', '-'], {
    input: archive,
  });
}

/**
 * Sets extended attributes (path → name → exact bytes) without following
 * symlinks. The dump format is getfattr's: `# file: PATH` then `name=0sBASE64`.
 */
export async function setXattrs(dir: string, attrs: ReadonlyMap<string, ReadonlyMap<string, Buffer>>): Promise<void> {
  if (attrs.size === 0) return;
  let dump = '';
  for (const [rel, byName] of attrs) {
    if (byName.size === 0) continue;
    dump += `# file: ${escapeDumpName(rel === '' ? '.' : rel)}\n`;
    for (const [name, value] of byName) dump += `${escapeDumpName(name)}=0s${value.toString('base64')}\n`;
    dump += '\n';
  }
  if (dump === '') return;
  await runOk('setfattr', ['-h', '--restore=-'], { cwd: dir, input: dump });
}

/** getfattr's quoting: anything but plain printable characters as a backslash and three octal digits. */
export function escapeDumpName(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const plain = byte > 0x20 && byte < 0x7f && byte !== 0x5c /* \ */ && byte !== 0x3d /* = */ && byte !== 0x22 /* " */;
    out += plain ? String.fromCharCode(byte) : `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return out;
}
