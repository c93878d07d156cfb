import { spawn } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'rolldown';
import { repoRoot } from '../../support/cache.js';
import { busyboxRootfsTar } from '../../support/images.js';
import { freePort } from '../../support/registry.js';
import { forceRemoveRoot, settledLeftovers } from '../../native-engine/support.js';
import type { CheckResult, SuiteConfig } from '../suite/context.js';
import { vmKernel, type VmKernel } from './kernels.js';
import { buildInitramfs } from './initramfs.js';
import { bootVm, vmAccel, type Accel } from './qemu.js';

/**
 * Runs the engine suite (test/vm/suite) on one target: in a VM booting one of
 * Debian's kernels with pure cgroup v2, or on this host as it is. The suite
 * is bundled into one file in a shared folder with its config; its results
 * come back there, one JSON line per check. Whatever happens, the VM is
 * killed and every temp dir removed before this returns; on the host the
 * suite's roots are checked for leftovers and swept.
 */

export interface SuiteRun {
  target: string;
  results: CheckResult[];
  /** The serial console (VM) or the suite's output (host). */
  output: string;
  seconds: number;
  /** Set when the run itself went wrong (VM timed out, suite crashed, leftovers on the host). */
  problem?: string;
  accel?: Accel;
  kernel?: VmKernel;
}

const CLI = join(repoRoot, 'bin', 'tscompose');
const HELPER = join(repoRoot, 'native', 'build', 'tsc-helper');
/** Under KVM a guest reaches its init in seconds; one that has not after this never will. */
const KVM_BOOT_MS = 60_000;
/** A port no server listens on: names the embedded DNS does not know are forwarded nowhere. */
const NO_UPSTREAM = '127.0.0.1:9';

async function bundleSuite(out: string): Promise<void> {
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  await build({
    input: join(repoRoot, 'test', 'vm', 'suite', 'main.ts'),
    platform: 'node',
    logLevel: 'warn',
    external: (id) => builtins.has(id),
    output: { file: out, format: 'esm' },
  });
}

function readResults(path: string): CheckResult[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as CheckResult);
}

/** The io folder: the bundled suite, its config, the results. */
async function prepare(config: Omit<SuiteConfig, 'cli' | 'helper' | 'imageTar' | 'port' | 'results'>, resultsIn: (io: string) => string) {
  const io = mkdtempSync(join(tmpdir(), 'tsc-vm-io-'));
  await bundleSuite(join(io, 'suite.mjs'));
  const full: SuiteConfig = { ...config, cli: CLI, helper: HELPER, imageTar: await busyboxRootfsTar(), port: await freePort(), results: resultsIn(io) };
  writeFileSync(join(io, 'config.json'), JSON.stringify(full, null, 2));
  return io;
}

/**
 * How the guest's cgroup tree looks when the suite starts. "bare": as a plain
 * init leaves it, every process in the root cgroup and no controller enabled
 * (the engine must delegate them itself). "systemd": as systemd lays out a
 * v2 host, every controller enabled at the root, PID 1 in init.scope and the
 * suite (and everything it starts) in a service of system.slice, none in the
 * root cgroup.
 */
export type CgroupLayout = 'bare' | 'systemd';

const SYSTEMD_LAYOUT = [
  'cg=/sys/fs/cgroup',
  'for c in $(cat $cg/cgroup.controllers); do echo "+$c" > $cg/cgroup.subtree_control; done',
  'mkdir -p $cg/init.scope $cg/system.slice/tscompose-suite.service',
  'echo 1 > $cg/init.scope/cgroup.procs',
  'echo "+cpu +io +memory +pids" > $cg/system.slice/cgroup.subtree_control',
  'echo $$ > $cg/system.slice/tscompose-suite.service/cgroup.procs',
];

export async function runSuiteInVm(series: string, layout: CgroupLayout, timeoutMs: number, onLine?: (l: string) => void): Promise<SuiteRun> {
  const kernel = vmKernel(series);
  const started = Date.now();
  let io: string | undefined;
  let vm: ReturnType<typeof bootVm> | undefined;
  try {
    // The guest mounts its own tmpfs on /tmp: the suite, the image tar and the helper must sit elsewhere or in the io share.
    io = await prepare({ target: 'vm', expectCgroup: 2, cgroupLayout: layout }, () => '/mnt/io/results.jsonl');
    writeFileSync(join(io, 'modules'), kernel.root);
    // Host folders the guest must still see after it lays tmpfs over /tmp, /run...: the checkout (CLI, helper, bundle) and the kernel's modules.
    writeFileSync(join(io, 'carry'), `${repoRoot}\n${kernel.root}\n`);
    writeFileSync(join(io, 'run'), [
      ...(layout === 'systemd' ? SYSTEMD_LAYOUT : []),
      'export TSCOMPOSE_ROOT=/var/lib/tscompose TSCOMPOSE_RUN=/run/tscompose',
      `export TSCOMPOSE_DNS_UPSTREAM=${NO_UPSTREAM}`,
      'exec node /mnt/io/suite.mjs /mnt/io/config.json',
      '',
    ].join('\n'));
    buildInitramfs(kernel, join(io, 'initrd.cpio'));
    const boot = (accel: Accel) => bootVm({ kernel, accel, initrd: join(io!, 'initrd.cpio'), ioDir: io!, timeoutMs, ...(onLine ? { onLine } : {}) });
    vm = boot(vmAccel());
    let fellBack = '';
    if (vm.accel === 'kvm' && !(await vm.whenReady(KVM_BOOT_MS))) {
      vm.kill();
      fellBack = `KVM did not boot the guest within ${KVM_BOOT_MS / 1000} s:\n${(await vm.done).console.split('\n').slice(-5).join('\n')}\n--- again under TCG ---\n`;
      vm = boot('tcg');
    }
    const end = await vm.done;
    const status = existsSync(join(io, 'status')) ? readFileSync(join(io, 'status'), 'utf8').trim() : undefined;
    const problem = end.timedOut ? `the VM was killed after ${timeoutMs / 1000} s`
      : status !== '0' ? `the suite ended with status ${status ?? '(none: the guest died first)'}` : undefined;
    return {
      target: `Linux ${kernel.release} (${layout} cgroup v2)`, kernel, accel: vm.accel, results: readResults(join(io, 'results.jsonl')),
      output: fellBack + end.console, seconds: (Date.now() - started) / 1000, ...(problem ? { problem } : {}),
    };
  } finally {
    vm?.kill();
    if (vm) await vm.done.catch(() => undefined);
    if (io) rmSync(io, { recursive: true, force: true });
  }
}

export async function runSuiteOnHost(timeoutMs: number): Promise<SuiteRun> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'tsc-vmsuite-host-'));
  const root = { dir, state: join(dir, 'state'), run: join(dir, 'run') };
  mkdirSync(root.state);
  mkdirSync(root.run);
  let io: string | undefined;
  try {
    io = await prepare({ target: 'host' }, (d) => join(d, 'results.jsonl'));
    const child = spawn(process.execPath, [join(io, 'suite.mjs'), join(io, 'config.json')], {
      env: { ...process.env, TSCOMPOSE_ROOT: root.state, TSCOMPOSE_RUN: root.run, TSCOMPOSE_DNS_UPSTREAM: NO_UPSTREAM },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b));
    child.stderr.on('data', (b: Buffer) => (output += b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(timer);
    const left = await settledLeftovers({ ...root, env: {} }, 15_000);
    const problem = [
      code !== 0 ? `the suite ended with ${code === null ? 'a kill (timeout)' : `status ${code}`}` : '',
      left.length ? `left on the host:\n  ${left.join('\n  ')}` : '',
    ].filter(Boolean).join('; ');
    return { target: 'this host', results: readResults(join(io, 'results.jsonl')), output, seconds: (Date.now() - started) / 1000, ...(problem ? { problem } : {}) };
  } finally {
    forceRemoveRoot(root);
    rmSync(dir, { recursive: true, force: true });
    if (io) rmSync(io, { recursive: true, force: true });
  }
}
