import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError } from '../../types.js';
import { hostCgroups, parseCgroupMounts } from '../runtime/cgroups/index.js';

/**
 * pause/unpause: the container's cgroup frozen and thawed, as Docker does
 * (cgroup v1 freezer.state, cgroup v2 cgroup.freeze). The cgroup is the
 * runtime's, at the path docs/internals.md fixes: <mount>/tscompose/<id>.
 */

interface FreezerFiles {
  /** Where to write the wanted state. */
  control: string;
  /** Where the kernel reports the state reached. */
  state: string;
  version: 1 | 2;
}

let v1FreezerMount: string | undefined | null;

function files(id: string): FreezerFiles | undefined {
  const driver = hostCgroups();
  if (driver.version === 2) {
    const root = process.env.TSCOMPOSE_CGROUP_ROOT ?? parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8')).v2;
    if (!root) return undefined;
    const dir = join(root, 'tscompose', id);
    return { control: join(dir, 'cgroup.freeze'), state: join(dir, 'cgroup.events'), version: 2 };
  }
  if (v1FreezerMount === undefined) {
    v1FreezerMount = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8')).v1.find((h) => h.controllers.includes('freezer'))?.mount ?? null;
  }
  if (!v1FreezerMount) return undefined;
  const dir = join(v1FreezerMount, 'tscompose', id);
  return { control: join(dir, 'freezer.state'), state: join(dir, 'freezer.state'), version: 1 };
}

/** True when the container's cgroup is frozen (or freezing). */
export function isPaused(id: string): boolean {
  const f = files(id);
  if (!f || !existsSync(f.state)) return false;
  try {
    const text = readFileSync(f.state, 'utf8');
    return f.version === 1 ? text.trim() !== 'THAWED' : /^frozen 1$/m.test(text);
  } catch {
    return false;
  }
}

/** Freezes or thaws the cgroup and waits until the kernel says it is done. */
export async function setPaused(id: string, name: string, paused: boolean): Promise<void> {
  const f = files(id);
  if (!f || !existsSync(f.control)) {
    throw new EngineError(`cannot ${paused ? 'pause' : 'unpause'} container ${name}: this host has no freezer cgroup for it`);
  }
  writeFileSync(f.control, f.version === 1 ? (paused ? 'FROZEN' : 'THAWED') : paused ? '1' : '0');
  const want = f.version === 1 ? (paused ? 'FROZEN' : 'THAWED') : paused ? 'frozen 1' : 'frozen 0';
  for (let i = 0; i < 500; i++) {
    const text = readFileSync(f.state, 'utf8');
    if (f.version === 1 ? text.trim() === want : text.split('\n').includes(want)) return;
    // v1 can stay FREEZING while a task sits in an uninterruptible sleep: ask again.
    if (f.version === 1 && paused) writeFileSync(f.control, 'FROZEN');
    await sleep(i < 20 ? 1 : 10);
  }
  throw new EngineError(`container ${name} did not ${paused ? 'freeze' : 'thaw'} within 5 s`);
}
