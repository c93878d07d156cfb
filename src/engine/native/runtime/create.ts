import { existsSync, mkdirSync, statSync } from 'node:fs';
import { isAbsolute, posix } from 'node:path';
import { hostname } from 'node:os';
import { UserError } from '../../../util/errors.js';
import { parseSignal, signalName } from './signals.js';
import { resolveCapabilities } from './caps.js';
import { checkSysctl } from './launch.js';
import { parseExtraHost } from '../../../util/etc-hosts.js';
import { imageConfigOf, type ImageRecord, type PreparedRootfs } from './images.js';
import type { ContainerRecord, ResolvedMount } from './store.js';
import type { ContainerMount, ContainerConfig } from './types.js';
import type { VolumeStore } from './volumes.js';

/**
 * Turns a container config and its image into the container's record: the command
 * (entrypoint + cmd, as Docker combines them), the environment, the working
 * dir, the stop signal, and the mounts with every volume resolved (named
 * ones created when missing, image VOLUMEs and bare targets given anonymous
 * volumes). All validation happens here, before anything is created.
 */

export function validateConfig(spec: ContainerConfig): void {
  if (!spec.image) throw new UserError('no image given', 1, 'name the image to create the container from');
  for (const e of spec.env ?? []) {
    if (!e || e.startsWith('=')) throw new UserError(`invalid environment variable "${e}"`, 1, 'use KEY=value');
  }
  if (spec.workingDir && !posix.isAbsolute(spec.workingDir)) {
    throw new UserError(`the working directory '${spec.workingDir}' is invalid, it needs to be an absolute path`);
  }
  if (spec.stopSignal) parseSignal(spec.stopSignal, 'stop signal');
  resolveCapabilities(spec);
  for (const h of spec.extraHosts ?? []) parseExtraHost(h); // fails now, before anything is created
  for (const k of Object.keys(spec.sysctls ?? {})) checkSysctl(k, spec.network?.mode === 'host');
  const r = spec.resources ?? {};
  if (r.memory !== undefined && r.memory > 0 && r.memory < 6 * 1024 * 1024) {
    throw new UserError(`Minimum memory limit allowed is 6MB (got ${r.memory} bytes)`, 1, 'give --memory 6m or more');
  }
  if (r.memorySwap !== undefined && r.memorySwap > 0 && r.memory !== undefined && r.memorySwap < r.memory) {
    throw new UserError('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (r.cpus !== undefined && (r.cpus < 0 || !Number.isFinite(r.cpus))) throw new UserError(`invalid cpus value ${r.cpus}`, 1, 'give a positive number of CPUs, e.g. 0.5');
  if (r.pidsLimit !== undefined && !Number.isInteger(r.pidsLimit)) throw new UserError(`invalid pids limit ${r.pidsLimit}`);
  for (const [flag, v] of [['--cpuset-cpus', r.cpusetCpus], ['--cpuset-mems', r.cpusetMems]] as const) {
    if (v !== undefined && !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) throw new UserError(`invalid value "${v}" for ${flag}`, 1, 'give a list such as 0-2,4');
  }
  if (r.blkioWeight !== undefined && r.blkioWeight !== 0 && (!Number.isInteger(r.blkioWeight) || r.blkioWeight < 10 || r.blkioWeight > 1000)) {
    throw new UserError(`invalid blkio weight ${r.blkioWeight}`, 1, 'give a weight between 10 and 1000');
  }
  const targets = new Set<string>();
  for (const m of spec.mounts ?? []) {
    if (!m.target || !posix.isAbsolute(m.target)) {
      throw new UserError(`invalid mount target "${m.target}": it must be an absolute path`, 1, 'e.g. -v data:/var/lib/data');
    }
    const t = posix.normalize(m.target);
    if (t === '/') throw new UserError('invalid mount target "/": the root cannot be a mount', 1, 'mount somewhere below /');
    if (targets.has(t)) throw new UserError(`Duplicate mount point: ${t}`);
    targets.add(t);
    if (m.type === 'bind') {
      if (!m.source || !isAbsolute(m.source)) {
        throw new UserError(`invalid bind mount source "${m.source ?? ''}" for ${t}: it must be an absolute host path`);
      }
      if (!existsSync(m.source) && !m.options?.createHostPath) {
        throw new UserError(`invalid mount config for type "bind": bind source path does not exist: ${m.source}`, 1,
          'create it first, or use the -v form, which creates a missing directory');
      }
    }
  }
}

/** Docker's rule: --entrypoint resets the image's Cmd unless a command is given too. */
export function resolveCommand(spec: ContainerConfig, image: ImageRecord): string[] {
  const cfg = imageConfigOf(image);
  const entrypoint = spec.entrypoint ?? cfg.Entrypoint ?? [];
  const cmd = spec.cmd ?? (spec.entrypoint !== undefined ? [] : cfg.Cmd ?? []);
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0 || argv[0] === '') {
    throw new UserError('No command specified', 1, `image ${spec.image} has no CMD or ENTRYPOINT: give a command`);
  }
  return argv;
}

/** Image env, then the config's; a later KEY wins in place. */
export function mergeEnv(image: string[], extra: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...image, ...extra]) {
    const eq = e.indexOf('=');
    const key = eq < 0 ? e : e.slice(0, eq);
    out.set(key, eq < 0 ? key : e);
  }
  return [...out.values()].filter((e) => e.includes('='));
}

async function resolveMount(m: ContainerMount, volumes: VolumeStore): Promise<ResolvedMount> {
  const target = posix.normalize(m.target);
  const readOnly = m.readOnly ?? false;
  if (m.type === 'tmpfs') {
    return { type: 'tmpfs', source: '', target, readOnly, copyUp: false, tmpfsSize: m.options?.tmpfsSize, tmpfsMode: m.options?.tmpfsMode };
  }
  if (m.type === 'bind') {
    if (!existsSync(m.source!)) mkdirSync(m.source!, { recursive: true, mode: 0o755 });
    return { type: 'bind', source: m.source!, target, readOnly, copyUp: false };
  }
  const vol = await volumes.create({ name: m.source || undefined });
  const source = volumes.source(vol);
  if (!statSync(source).isDirectory()) throw new UserError(`volume ${vol.Name}: ${source} is not a directory`);
  return {
    type: 'volume', source, name: vol.Name, anonymous: !m.source, target, readOnly,
    copyUp: !(m.options?.noCopy ?? false),
  };
}

export async function resolveMounts(spec: ContainerConfig, image: ImageRecord, volumes: VolumeStore): Promise<ResolvedMount[]> {
  const out: ResolvedMount[] = [];
  for (const m of spec.mounts ?? []) out.push(await resolveMount(m, volumes));
  // Each image VOLUME that no mount covers gets an anonymous volume, filled from the image.
  for (const target of Object.keys(imageConfigOf(image).Volumes ?? {})) {
    const t = posix.normalize(target);
    if (out.some((m) => m.target === t)) continue;
    out.push(await resolveMount({ type: 'volume', target: t }, volumes));
  }
  return out;
}

export function buildRecord(args: {
  id: string;
  name: string;
  spec: ContainerConfig;
  image: ImageRecord;
  rootfs: PreparedRootfs;
  mounts: ResolvedMount[];
}): ContainerRecord {
  const { id, name, spec, image, rootfs, mounts } = args;
  const cfg = imageConfigOf(image);
  const [path, ...rest] = resolveCommand(spec, image);
  const host = spec.hostname ?? (spec.network?.mode === 'host' || spec.namespaces?.uts === 'host' ? hostname() : id.slice(0, 12));
  const stop = spec.stopSignal ?? cfg.StopSignal ?? 'SIGTERM';
  return {
    id,
    name,
    created: new Date().toISOString(),
    image: { ref: spec.image, id: image.id, config: cfg },
    spec,
    path: path!,
    args: rest,
    env: mergeEnv(cfg.Env ?? [], spec.env ?? []),
    workingDir: spec.workingDir ?? (cfg.WorkingDir || '/'),
    hostname: host,
    domainname: spec.domainname ?? '',
    user: spec.user ?? cfg.User ?? '',
    stopSignal: signalName(parseSignal(stop, 'stop signal')),
    stopTimeout: spec.stopTimeout ?? (typeof cfg.StopTimeout === 'number' ? cfg.StopTimeout : 10),
    rootfs,
    mounts,
  };
}
