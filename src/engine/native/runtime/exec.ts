import type { StdioOptions } from 'node:child_process';
import { ConflictError, UserError } from '../../../util/errors.js';
import { HelperConfig, runHelper, type HelperRun } from './helper.js';
import { processEnv, processLines, CLONE_NEWCGROUP } from './launch.js';
import { capMask, CAPABILITIES, hostCapabilities, resolveCapabilities } from './caps.js';
import { resolveUser } from './users.js';
import type { CgroupDriver } from './cgroups/index.js';
import { ownCgroupNamespace } from './namespaces.js';
import { deriveStatus, type ContainerRecord } from './store.js';
import type { ExecRequest } from './types.js';

/**
 * `exec`: a new process in a running container. The helper joins the
 * container's namespaces through a pidfd of PID 1 (checked against its start
 * time, so a reused pid is never joined) and its cgroup, and runs the
 * command with the container's user, capabilities and seccomp filter unless
 * the exec asks for others (a privileged exec gets every capability, and
 * keeps the container's filter, as Docker's does).
 */

const CLONE_NEWNS = 0x00020000;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWIPC = 0x08000000;
const CLONE_NEWPID = 0x20000000;
const CLONE_NEWNET = 0x40000000;

export interface ExecHandle {
  pid: number;
  /** The command's exit code (128 + signal when killed). */
  exit: Promise<number>;
  run: HelperRun;
}

export type ExecStdio = 'inherit' | 'pipe' | 'ignore';

export async function startExec(rec: ContainerRecord, cgroups: CgroupDriver, spec: ExecRequest, stdio: ExecStdio = 'inherit'): Promise<ExecHandle> {
  if (!spec.cmd.length) throw new UserError('no command given to exec', 1, 'give the command to run, e.g. exec NAME sh');
  const st = deriveStatus(rec.id);
  if (st.status !== 'running' || !st.monitor) {
    throw new ConflictError(`Container ${rec.id} is not running`, 'start it first');
  }
  const layers = [rec.rootfs.upperDir, ...rec.rootfs.lowerDirs];
  const user = resolveUser(layers, spec.user ?? rec.user, rec.spec.groupAdd);
  const own = resolveCapabilities(rec.spec);
  const caps = spec.privileged ? capMask(CAPABILITIES) & hostCapabilities() : own;
  const cfg = new HelperConfig();
  cfg.add('pid', st.pid, st.monitor.initStart);
  for (const f of cgroups.procsFiles(rec.id)) cfg.add('cgroup', f);
  let join_ = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID;
  if ((rec.spec.network ?? { mode: 'none' }).mode !== 'host') join_ |= CLONE_NEWNET;
  if (ownCgroupNamespace(rec.spec)) join_ |= CLONE_NEWCGROUP;
  cfg.add('join', join_.toString(16));
  if (spec.tty) cfg.add('tty', 1);
  if (spec.stdin) cfg.add('stdin', 1);
  if (spec.detach) cfg.add('detach', 1);
  if (stdio === 'inherit' && process.stdout.isTTY && process.stdout.rows) cfg.add('rows', process.stdout.rows).add('cols', process.stdout.columns);
  else if (spec.size) cfg.add('rows', spec.size.rows).add('cols', spec.size.cols);
  if (spec.resize && spec.tty) cfg.add('resize', 1);
  const env = processEnv([...rec.env, ...(spec.env ?? [])].reduce<string[]>((acc, e) => {
    const key = e.split('=')[0];
    return [...acc.filter((x) => x.split('=')[0] !== key), e];
  }, []), rec.hostname, user.home, spec.tty ?? false);
  processLines(cfg, {
    user,
    caps,
    // The container's filter, even for a privileged exec (Docker's too): only a privileged container has none.
    seccomp: !rec.spec.privileged && rec.spec.seccomp !== 'unconfined',
    seccompCaps: own,
    noNewPrivileges: rec.spec.noNewPrivileges ?? false,
    cwd: spec.workingDir ?? rec.workingDir ?? '/',
    env,
    argv: spec.cmd,
    ulimits: rec.spec.ulimits,
  });
  const stdinMode: StdioOptions = spec.detach ? 'ignore' : spec.stdin || spec.tty ? stdio : 'ignore';
  const outMode: StdioOptions = spec.detach ? 'ignore' : stdio;
  const run = runHelper(['exec', { text: cfg.text() }], [stdinMode, outMode, outMode] as [StdioOptions, StdioOptions, StdioOptions], { resize: !!(spec.resize && spec.tty) });
  const reply = await run.first;
  if (!reply.ok) {
    await run.done.catch(() => undefined);
    throw new UserError(`exec failed: ${reply.message}`, reply.code === 1 ? 1 : reply.code);
  }
  return { pid: reply.values[0] ?? 0, exit: run.done, run };
}
