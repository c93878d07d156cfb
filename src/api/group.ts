import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';

/** A group's id by name (from /etc/group) or as a number. */
export function getgrnam(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  let text = '';
  try {
    text = readFileSync('/etc/group', 'utf8');
  } catch { /* no group file: unknown name */ }
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new UserError(`unknown group "${group}"`, 1, 'give a group of /etc/group (e.g. docker), or its number');
}
