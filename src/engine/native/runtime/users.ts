import { UserError } from '../../../util/errors.js';
import { readRootfsFile } from './rootfs-files.js';

/**
 * A container's user, resolved as runc's user.GetExecUser does: against the
 * container's own /etc/passwd and /etc/group (read through its layers), a
 * numeric uid or gid being allowed without an entry. Supplementary groups
 * are the primary group, the groups that list the user by name (unless a
 * group was given), and group_add.
 */
export interface ExecUser {
  uid: number;
  gid: number;
  groups: number[];
  home: string;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

const MAX_ID = 2 ** 31 - 1;

function parsePasswd(text: string | undefined): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 6) continue;
    out.push({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' });
  }
  return out;
}

function parseGroup(text: string | undefined): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 3) continue;
    out.push({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}

function numeric(s: string): number | undefined {
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  if (n > MAX_ID) throw new UserError(`user/group id ${s} is out of range (at most ${MAX_ID})`);
  return n;
}

export function resolveUser(layers: string[], spec: string | undefined, groupAdd: string[] = []): ExecUser {
  const [userPart = '', groupPart] = (spec ?? '').split(':', 2);
  const passwd = parsePasswd(readRootfsFile(layers, '/etc/passwd'));
  const groups = parseGroup(readRootfsFile(layers, '/etc/group'));

  let user: PasswdEntry | undefined;
  let uid = 0;
  let gid = 0;
  let home = '/';
  if (userPart === '') {
    user = passwd.find((p) => p.uid === 0);
  } else {
    const n = numeric(userPart);
    user = n === undefined ? passwd.find((p) => p.name === userPart) : passwd.find((p) => p.uid === n);
    if (!user && n === undefined) {
      throw new UserError(`unable to find user ${userPart}: no matching entries in passwd file`, 1,
        'Use a user that exists in the image\'s /etc/passwd, or a numeric uid');
    }
    uid = n ?? user!.uid;
  }
  if (user) {
    uid = user.uid;
    gid = user.gid;
    home = user.home;
  }
  if (groupPart !== undefined && groupPart !== '') {
    const n = numeric(groupPart);
    const g = n === undefined ? groups.find((e) => e.name === groupPart) : undefined;
    if (n === undefined && !g) {
      throw new UserError(`unable to find group ${groupPart}: no matching entries in group file`, 1,
        'Use a group that exists in the image\'s /etc/group, or a numeric gid');
    }
    gid = n ?? g!.gid;
  }
  // As runc does: the primary group is always a supplementary one too.
  const supplementary = new Set<number>([gid]);
  if (user && (groupPart === undefined || groupPart === '')) {
    for (const g of groups) if (g.members.includes(user.name)) supplementary.add(g.gid);
  }
  for (const add of groupAdd) {
    const n = numeric(add);
    const g = n === undefined ? groups.find((e) => e.name === add) : undefined;
    if (n === undefined && !g) throw new UserError(`unable to find group ${add} (group_add): no matching entries in group file`);
    supplementary.add(n ?? g!.gid);
  }
  return { uid, gid, groups: [...supplementary], home };
}
