import { existsSync, mkdirSync, readdirSync, rmSync, statSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { statePath, ensurePrivateDir } from '../../../util/paths.js';
import { readJsonIfExists, writeJsonAtomic } from '../../../util/atomic.js';
import { withLock } from '../../../util/lock.js';
import { ConflictError, NotFoundError, UserError } from '../../../util/errors.js';
import { checkName } from './names.js';
import { listContainerIds, readRecord } from './store.js';
import { byCodeUnits } from '../../../util/order.js';

/**
 * Named volumes of the native engine: volumes/<name>/_data plus meta.json.
 * The `local` driver only; its `type=none,o=bind,device=PATH` options make a
 * volume a bind of an existing host directory, as Docker's do. Anonymous
 * volumes are named by 64 hex characters and carry Docker's
 * com.docker.volume.anonymous label.
 */
export interface Volume {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  Scope: 'local';
}

export interface VolumeCreateOptions {
  name?: string;
  driver?: string;
  driverOpts?: Record<string, string>;
  labels?: Record<string, string>;
}

export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

function volumesDir(): string {
  return statePath('volumes');
}

function metaPath(name: string): string {
  return join(volumesDir(), name, 'meta.json');
}

function checkOptions(name: string, opts: Record<string, string>): void {
  for (const key of Object.keys(opts)) {
    if (!['type', 'o', 'device'].includes(key)) {
      throw new UserError(`volume ${name}: unknown driver option "${key}"`, 1, 'the local driver takes type, o and device');
    }
  }
  const type = opts.type;
  if (type === undefined && opts.device === undefined) return;
  const bind = (opts.o ?? '').split(',').includes('bind');
  if ((type !== 'none' && type !== undefined) || !bind || !opts.device) {
    throw new UserError(`volume ${name}: only bind volumes are supported by the local driver here (type=${type ?? ''}, o=${opts.o ?? ''})`, 1,
      'use -o type=none -o o=bind -o device=/existing/host/dir, or no options at all');
  }
  if (!opts.device.startsWith('/') || !existsSync(opts.device) || !statSync(opts.device).isDirectory()) {
    throw new UserError(`volume ${name}: device ${opts.device} is not an existing host directory`, 1, 'create the directory first, or give an absolute path');
  }
}

export class VolumeStore {
  private lockPath(): string {
    return join(ensurePrivateDir(volumesDir()), '.lock');
  }

  /** Creates the volume, or returns it when it exists already (Docker's behaviour). */
  async create(opts: VolumeCreateOptions = {}): Promise<Volume> {
    const anonymous = !opts.name;
    const name = opts.name ? checkName(opts.name, 'volume') : randomBytes(32).toString('hex');
    if (opts.driver && opts.driver !== 'local') {
      throw new UserError(`volume ${name}: driver "${opts.driver}" is not available`, 1, 'the native engine has the local driver only');
    }
    const options = opts.driverOpts ?? {};
    checkOptions(name, options);
    return withLock(this.lockPath(), () => {
      const existing = this.read(name);
      if (existing) return existing;
      const dir = join(volumesDir(), name);
      mkdirSync(join(dir, '_data'), { recursive: true, mode: 0o755 });
      const labels = { ...(opts.labels ?? {}) };
      if (anonymous) labels[ANONYMOUS_LABEL] = '';
      const vol: Volume = {
        Name: name,
        Driver: 'local',
        Mountpoint: join(dir, '_data'),
        CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        Labels: labels,
        Options: options,
        Scope: 'local',
      };
      // The record is written last: a volume dir without one is debris that the next create overwrites.
      writeJsonAtomic(metaPath(name), vol);
      return vol;
    });
  }

  read(name: string): Volume | undefined {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) return undefined;
    return readJsonIfExists<Volume>(metaPath(name));
  }

  get(name: string): Volume {
    const v = this.read(name);
    if (!v) throw new NotFoundError('volume', name);
    return v;
  }

  /** The host directory mounted into containers: the bind device, or _data. */
  source(vol: Volume): string {
    return vol.Options.device && (vol.Options.o ?? '').split(',').includes('bind') ? vol.Options.device : vol.Mountpoint;
  }

  list(filter: { labels?: Record<string, string | undefined>; dangling?: boolean; name?: string } = {}): Volume[] {
    let names: string[];
    try {
      names = readdirSync(volumesDir());
    } catch {
      return [];
    }
    const used = filter.dangling === undefined ? undefined : this.usedVolumes();
    const out: Volume[] = [];
    for (const n of names) {
      const v = this.read(n);
      if (!v) continue;
      if (filter.name && !v.Name.includes(filter.name)) continue;
      if (filter.labels && !matchLabels(v.Labels, filter.labels)) continue;
      if (used && filter.dangling === used.has(v.Name)) continue;
      out.push(v);
    }
    return out.sort((a, b) => byCodeUnits(a.Name, b.Name));
  }

  /** Names of the volumes some container (running or not) mounts, with the containers. */
  usedVolumes(): Map<string, string[]> {
    const used = new Map<string, string[]>();
    for (const id of listContainerIds()) {
      let rec;
      try {
        rec = readRecord(id);
      } catch {
        continue;
      }
      for (const m of rec.mounts) if (m.type === 'volume' && m.name) used.set(m.name, [...(used.get(m.name) ?? []), id]);
    }
    return used;
  }

  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    await withLock(this.lockPath(), () => {
      const v = this.read(name);
      if (!v) {
        if (opts.force) return;
        throw new NotFoundError('volume', name);
      }
      const users = this.usedVolumes().get(name);
      if (users?.length) {
        throw new ConflictError(`remove ${name}: volume is in use - [${users.join(', ')}]`, 'Remove the containers that use it first');
      }
      this.removeLocked(name);
    });
  }

  private removeLocked(name: string): void {
    const dir = join(volumesDir(), name);
    // Metadata first: a half-removed volume is no longer listed, and removing again finishes the job.
    rmSync(metaPath(name), { force: true });
    if (existsSync(dir) && lstatSync(dir).isDirectory()) rmSync(dir, { recursive: true, force: true });
  }

  /** Removes unused volumes: anonymous ones only, unless `all` (Docker 23+). Returns the names and bytes freed. */
  async prune(opts: { all?: boolean; labels?: Record<string, string | undefined> } = {}): Promise<{ removed: string[]; bytes: number }> {
    return withLock(this.lockPath(), () => {
      const used = this.usedVolumes();
      const removed: string[] = [];
      let bytes = 0;
      for (const v of this.list({ labels: opts.labels })) {
        if (used.has(v.Name)) continue;
        if (!opts.all && !(ANONYMOUS_LABEL in v.Labels)) continue;
        if (v.Mountpoint === this.source(v)) bytes += diskUsage(v.Mountpoint);
        this.removeLocked(v.Name);
        removed.push(v.Name);
      }
      return { removed, bytes };
    });
  }
}

export function matchLabels(labels: Record<string, string>, want: Record<string, string | undefined>): boolean {
  for (const [k, v] of Object.entries(want)) {
    if (!(k in labels)) return false;
    if (v !== undefined && labels[k] !== v) return false;
  }
  return true;
}

function diskUsage(path: string): number {
  let total = 0;
  const walk = (p: string) => {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    total += st.blocks * 512;
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  };
  walk(path);
  return total;
}
