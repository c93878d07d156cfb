import { readFileSync } from 'node:fs';
import { errorAt, type Position } from '../dockerfile/errors.js';
import { resolveInRoot } from '../fs/scoped.js';
import type { Owner } from '../fs/copy.js';

/**
 * `--chown=user[:group]` of COPY and ADD: names looked up in the image's
 * own /etc/passwd and /etc/group (read inside its root), numbers taken as
 * they are; without a group, the user's number is the group's too, as
 * Docker does.
 */
export function resolveChown(root: string, text: string, pos: Position): Owner {
  const [user, group] = text.split(':', 2) as [string, string | undefined];
  if (!user) throw errorAt(pos, `invalid --chown=${text}`, 'Give user[:group], names or numbers');
  const uid = lookup(root, '/etc/passwd', user, pos, 'user');
  const gid = group === undefined || group === '' ? uid : lookup(root, '/etc/group', group, pos, 'group');
  return { uid, gid };
}

function lookup(root: string, file: string, name: string, pos: Position, what: 'user' | 'group'): number {
  if (/^\d+$/.test(name)) return Number(name);
  let text = '';
  try {
    const r = resolveInRoot(root, file);
    if (r.st?.isFile()) text = readFileSync(r.path, 'utf8');
  } catch { /* no such file: the lookup fails below */ }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f[2] !== undefined && /^\d+$/.test(f[2])) return Number(f[2]);
  }
  throw errorAt(pos, `unable to find ${what} ${name}: no matching entries in ${file} of the image`, `Create the ${what} first (RUN useradd ...), or give a number`);
}
