/**
 * The short volume syntax `[SOURCE:]TARGET[:OPTIONS]`, as Compose parses it:
 * a source starting with `.`, `/` or `~` is a host path
 * (a bind mount, created when missing), anything else a named volume; no
 * source is an anonymous volume. Options: ro, rw, nocopy, z/Z (SELinux) and
 * the mount propagations.
 */

export interface ShortVolume {
  type: 'bind' | 'volume';
  source?: string;
  target: string;
  read_only: boolean;
  nocopy: boolean;
  selinux?: 'z' | 'Z';
  propagation?: string;
  /** Options that are none of the above (Compose ignores them; we warn). */
  unknownOptions: string[];
}

export const PROPAGATIONS = ['rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave'];

export class VolumeSyntaxError extends Error {}

export function parseVolumeString(spec: string): ShortVolume {
  if (spec === '') throw new VolumeSyntaxError('empty volume');
  const parts = splitVolumeString(spec);
  if (parts.some((p) => p === '')) throw new VolumeSyntaxError(`"${spec}": empty section between colons`);
  if (parts.length > 3) throw new VolumeSyntaxError(`"${spec}": too many colons; the syntax is [SOURCE:]TARGET[:OPTIONS]`);
  const v: ShortVolume = { type: 'volume', target: '', read_only: false, nocopy: false, unknownOptions: [] };
  if (parts.length === 1) {
    v.target = parts[0]!;
  } else {
    v.source = parts[0]!;
    v.target = parts[1]!;
  }
  for (const opt of parts.length === 3 ? parts[2]!.split(',') : []) {
    if (opt === 'ro') v.read_only = true;
    else if (opt === 'rw') v.read_only = false;
    else if (opt === 'nocopy') v.nocopy = true;
    else if (opt === 'z' || opt === 'Z') v.selinux = opt;
    else if (PROPAGATIONS.includes(opt)) v.propagation = opt;
    else v.unknownOptions.push(opt);
  }
  if (v.source !== undefined && isHostPath(v.source)) v.type = 'bind';
  return v;
}

export function isHostPath(source: string): boolean {
  return (source !== '' && './~'.includes(source[0]!)) || isWindowsPath(source);
}

/** `C:\dir`, `C:/dir` or `\\server\share`: a Windows host path, kept as written (a file may be shared with Windows users). */
export function isWindowsPath(p: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
}

/**
 * Splits on colons, except inside `${...}` and after a Windows drive letter
 * (`C:\dir:/app`, or `C:/dir:/app` where a target follows). Unlike
 * compose-go, a one-letter source before `:/target` alone stays a volume
 * name (`a:/data`): this engine runs on Linux.
 */
function splitVolumeString(spec: string): string[] {
  const parts: string[] = [];
  let buf = '';
  let depth = 0;
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i]!;
    if (c === '$' && spec[i + 1] === '{') depth++;
    else if (c === '}' && depth > 0) depth--;
    const drive = parts.length === 0 && /^[A-Za-z]$/.test(buf) && (spec[i + 1] === '\\' || (spec[i + 1] === '/' && spec.indexOf(':/', i + 1) > 0));
    if (c === ':' && depth === 0 && !drive) {
      parts.push(buf);
      buf = '';
      continue;
    }
    buf += c;
  }
  parts.push(buf);
  return parts;
}
