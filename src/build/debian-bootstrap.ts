import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { UserError } from '../util/errors.js';
import { withLock } from '../util/lock.js';
import { run, type RunResult } from '../util/proc.js';
import { debianMirrors, hostAptSources, renderDeb822Sources, type DebianMirrors } from './debian-apt-sources.js';
import { scrubBuildHost, writeContainerConfig } from './debian-container-tweaks.js';

/**
 * Makes the root filesystem of a Debian base image (`debian:<suite>`) on this
 * machine, with no registry: debootstrap's minbase variant from the host's
 * apt mirror, the container settings Docker Hub's image has, the packages
 * brought up to date from `<suite>-updates` and `<suite>-security`, and the
 * traces of the build host removed. The result is a tar of the tree, ready
 * for `docker import` or our own image store.
 *
 * Every step that mounts something (debootstrap mounts /proc in the target,
 * the upgrade needs it too) runs in a private mount and pid namespace
 * (`unshare`): when the step ends, or this process is killed, the kernel
 * drops those mounts and processes, so a crash leaves no mount behind and a
 * second attempt starts clean.
 */

export interface DebianBootstrapOptions {
  /** A Debian codename (bookworm, trixie, sid) or alias (stable). */
  suite: string;
  /** When given, the tar is kept there as `debian-<suite>-<arch>.tar` and later calls return it at once. */
  cacheDir?: string;
  /** Make it again even when a cached tar exists (to pick up new security updates). */
  refresh?: boolean;
  /** Defaults to the mirrors in the host's apt sources. */
  mirrors?: DebianMirrors;
  /** Called with one line per phase. */
  onProgress?: (line: string) => void;
}

export interface DebianRootfs {
  tarPath: string;
  suite: string;
  arch: string;
  mirrors: DebianMirrors;
  /** True when the tar came from the cache. */
  cached: boolean;
  /** The image config Docker Hub's debian image has: for `docker import --change` or our importer. */
  config: DebianImageConfig;
  /** Removes the tar when it is not the cached copy (a temp dir then holds it); a no-op otherwise. */
  dispose(): void;
}

export interface DebianImageConfig {
  Env: string[];
  Cmd: string[];
}

export const DEBIAN_IMAGE_CONFIG: DebianImageConfig = {
  Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
  Cmd: ['bash'],
};

const SCRIPTS = '/usr/share/debootstrap/scripts';
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
// What apt and dpkg see in the chroot: nothing of the caller's environment but a proxy, if one is set.
const CHROOT_ENV_PASSTHROUGH = ['http_proxy', 'https_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY'];

export async function bootstrapDebianRootfs(options: DebianBootstrapOptions): Promise<DebianRootfs> {
  const suite = checkSuite(options.suite);
  checkRoot();
  const arch = (await must('dpkg', ['--print-architecture'], 'dpkg')).stdout.trim();
  const mirrors = options.mirrors ?? hostDebianMirrors();
  const progress = options.onProgress ?? (() => {});
  const result = (tarPath: string, cached: boolean, dispose: () => void): DebianRootfs => ({
    tarPath, suite, arch, mirrors, cached, config: DEBIAN_IMAGE_CONFIG, dispose,
  });

  if (!options.cacheDir) {
    const dir = mkdtempSync(join(tmpdir(), `tsc-debian-${suite}-`));
    const tarPath = join(dir, `debian-${suite}-${arch}.tar`);
    try {
      await makeRootfsTar({ suite, arch, mirrors, workDir: join(dir, 'work'), tarPath, progress });
    } catch (err) {
      rmTree(dir);
      throw err;
    }
    return result(tarPath, false, () => rmTree(dir));
  }

  mkdirSync(options.cacheDir, { recursive: true });
  const tarPath = join(options.cacheDir, `debian-${suite}-${arch}.tar`);
  if (existsSync(tarPath) && !options.refresh) return result(tarPath, true, () => {});
  return withLock(`${tarPath}.lock`, async () => {
    // Someone else may have made it while we waited for the lock.
    if (existsSync(tarPath) && !options.refresh) return result(tarPath, true, () => {});
    // Under the lock nobody else uses the work dir: whatever is there is a crashed attempt's.
    const workDir = `${tarPath}.work`;
    rmTree(workDir);
    await makeRootfsTar({ suite, arch, mirrors, workDir, tarPath, progress });
    return result(tarPath, false, () => {});
  }, 30 * 60_000);
}

/** The Debian mirror and security mirror this host's apt uses (deb.debian.org when it names none). */
export function hostDebianMirrors(): DebianMirrors {
  return debianMirrors(hostAptSources(), isDebianSuite);
}

/** True when debootstrap knows the suite as a Debian one (its script is, or links to, `sid`'s). */
export function isDebianSuite(suite: string): boolean {
  if (!/^[a-z][a-z0-9-]*$/.test(suite)) return false;
  const script = join(SCRIPTS, suite);
  if (!existsSync(script)) return false;
  return basename(realpathSync(script)) === 'sid';
}

function checkSuite(suite: string): string {
  if (isDebianSuite(suite)) return suite;
  if (!existsSync('/usr/sbin/debootstrap')) {
    throw new UserError('making a Debian base image needs debootstrap, which is not installed', 1, 'apt-get install -y debootstrap');
  }
  throw new UserError(
    `debian:${suite}: "${suite}" is not a Debian suite that debootstrap knows`,
    1,
    'use a Debian codename such as bookworm or trixie, or an alias such as stable (see /usr/share/debootstrap/scripts)',
  );
}

function checkRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new UserError('making a Debian base image needs root (debootstrap creates device nodes and chroots)', 1, 'run it as root');
  }
}

interface MakeArgs {
  suite: string;
  arch: string;
  mirrors: DebianMirrors;
  workDir: string;
  tarPath: string;
  progress: (line: string) => void;
}

async function makeRootfsTar({ suite, arch, mirrors, workDir, tarPath, progress }: MakeArgs): Promise<void> {
  const root = join(workDir, 'rootfs');
  mkdirSync(root, { recursive: true });
  try {
    progress(`debootstrap --variant=minbase ${suite} (${arch}) from ${mirrors.mirror}`);
    const boot = await inPrivateNamespaces(['debootstrap', '--variant=minbase', `--arch=${arch}`, `--keyring=${KEYRING}`, suite, root, mirrors.mirror]);
    if (boot.code !== 0) throw stepFailed(`debootstrap ${suite} from ${mirrors.mirror}`, boot, debootstrapLog(root));

    writeContainerConfig(root);
    rmSync(join(root, 'etc/apt/sources.list'), { force: true });
    writeFileSync(join(root, 'etc/apt/sources.list.d/debian.sources'), renderDeb822Sources(suite, mirrors, KEYRING));
    // apt in the chroot resolves the mirror with the host's resolvers; scrubBuildHost empties the file afterwards.
    rmSync(join(root, 'etc/resolv.conf'), { force: true });
    writeFileSync(join(root, 'etc/resolv.conf'), readFileSync('/etc/resolv.conf'));

    progress(`upgrading from ${suite}-updates and ${suite}-security`);
    const upgrade = await inChroot(root, 'apt-get update -q && apt-get -y -q -o Dpkg::Options::=--force-confold upgrade && apt-get clean');
    if (upgrade.code !== 0) throw stepFailed(`apt-get upgrade in the ${suite} rootfs`, upgrade);

    progress('removing the build host\'s traces');
    scrubBuildHost(root);

    progress(`writing ${tarPath}`);
    const tmp = `${tarPath}.tmp`;
    const tar = await run('tar', [
      '--create', `--file=${tmp}`, `--directory=${root}`, '--numeric-owner', '--sort=name', '--one-file-system',
      '--xattrs', '--xattrs-include=*', '--xattrs-exclude=security.selinux', '.',
    ]);
    if (tar.code !== 0) {
      rmSync(tmp, { force: true });
      throw stepFailed('tar of the rootfs', tar);
    }
    renameSync(tmp, tarPath);
  } finally {
    rmTree(workDir);
  }
}

/**
 * Runs a command in fresh mount and pid namespaces: its mounts and processes
 * end with it. setpriv --pdeathsig kills unshare when this process dies, and
 * unshare --kill-child then kills the namespace's first process, which takes
 * every process in the namespace with it: a crashed build leaves no
 * debootstrap or apt writing into a work dir that the next attempt reuses.
 */
function inPrivateNamespaces(argv: string[]): Promise<RunResult> {
  const unshare = ['unshare', '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--', ...argv];
  return run('setpriv', ['--pdeathsig', 'KILL', '--', ...unshare], {
    env: chrootEnv(),
  });
}

/** Runs a shell script chrooted in root, with /proc mounted (apt's maintainer scripts read it). */
function inChroot(root: string, script: string): Promise<RunResult> {
  return inPrivateNamespaces(['sh', '-c', 'mount -t proc proc "$0/proc" && exec chroot "$0" /bin/sh -c "$1"', root, script]);
}

function chrootEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    DEBIAN_FRONTEND: 'noninteractive',
    LC_ALL: 'C',
    HOME: '/root',
  };
  for (const k of CHROOT_ENV_PASSTHROUGH) if (process.env[k]) env[k] = process.env[k];
  return env;
}

async function must(cmd: string, args: string[], pkg: string): Promise<RunResult> {
  let r: RunResult;
  try {
    r = await run(cmd, args);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`${cmd} is not installed`, 1, `apt-get install -y ${pkg}`);
    throw err;
  }
  if (r.code !== 0) throw stepFailed(`${cmd} ${args.join(' ')}`, r);
  return r;
}

function debootstrapLog(root: string): string {
  try {
    return readFileSync(join(root, 'debootstrap/debootstrap.log'), 'utf8');
  } catch {
    return '';
  }
}

function stepFailed(what: string, r: RunResult, extraLog = ''): UserError {
  const tail = (text: string) => text.trim().split('\n').slice(-15).join('\n');
  const detail = [tail(r.stderr), tail(r.stdout), tail(extraLog)].filter(Boolean).join('\n---\n');
  return new UserError(
    `${what} failed (${r.signal ?? `exit ${r.code}`}):\n${detail}`,
    1,
    'check that the Debian mirror in /etc/apt/sources.list.d is reachable from this machine, then run it again',
  );
}

/** Removes a tree without crossing into anything mounted below it (rm's --one-file-system; Node's rmSync would follow). */
function rmTree(dir: string): void {
  if (!existsSync(dir)) return;
  // Synchronous on purpose: it runs in finally blocks and dispose().
  const { status } = spawnSync('rm', ['-rf', '--one-file-system', '--', dir]);
  if (status !== 0) throw new Error(`could not remove ${dir} (is something still mounted below it?)`);
}
