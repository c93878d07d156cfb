import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import type { VmKernel } from './kernels.js';

/**
 * One QEMU guest: the kernel under test booted over the host's own root
 * (9p, read-only; the guest lays a tmpfs over it), a second 9p share for
 * input and results, no NIC (-nic none: whatever the guest's bridges carry
 * stays in the guest), the serial console as the log.
 *
 * Acceleration: KVM only where it really runs a stock kernel. /dev/kvm can
 * exist and still not do so (a nested PVM host: its kvm_pvm module runs
 * only PVM-built guests, and a Debian kernel hangs in early boot), so KVM
 * is taken when a hardware KVM module (kvm_intel, kvm_amd) is loaded and
 * /dev/kvm opens; TCG (emulation, slower but everywhere) otherwise.
 * TSCOMPOSE_VM_ACCEL=kvm|tcg overrides. And since a module can be loaded and
 * still not run the guest, a KVM guest that does not reach its init in time
 * is booted again under TCG (run-suite.ts, `whenReady`).
 */

export type Accel = 'kvm' | 'tcg';

export function vmAccel(): Accel {
  const forced = process.env.TSCOMPOSE_VM_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return forced;
  if (!existsSync('/sys/module/kvm_intel') && !existsSync('/sys/module/kvm_amd')) return 'tcg';
  try {
    closeSync(openSync('/dev/kvm', 'r+'));
    return 'kvm';
  } catch {
    return 'tcg';
  }
}

export interface BootOptions {
  kernel: VmKernel;
  accel: Accel;
  initrd: string;
  /** Host directory shared read-write as the guest's /mnt/io. */
  ioDir: string;
  memoryMb?: number;
  cpus?: number;
  /** Killed after this long (the guest powers itself off when its job is done). */
  timeoutMs: number;
  /** Each console line as it comes. */
  onLine?: (line: string) => void;
}

export interface VmRun {
  /** Resolves when QEMU has exited, killed or not. */
  done: Promise<{ code: number | null; timedOut: boolean; console: string }>;
  /** Kills QEMU now (idempotent). */
  kill(): void;
  /** True once the guest's init says it is ready; false if QEMU ends first or `ms` pass. */
  whenReady(ms: number): Promise<boolean>;
  accel: Accel;
}

/** The line guest/init.sh prints when the guest's root, cgroups and shares are in place. */
const READY = /^vm-init: ready /;

export function bootVm(o: BootOptions): VmRun {
  const accel = o.accel;
  const args = [
    '-machine', `q35,accel=${accel}`, '-cpu', accel === 'kvm' ? 'host' : 'max',
    '-m', String(o.memoryMb ?? 2048), '-smp', String(o.cpus ?? 2),
    '-nodefaults', '-no-user-config', '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot',
    '-kernel', o.kernel.vmlinuz, '-initrd', o.initrd,
    // cgroup_no_v1=all: the pure cgroup v2 layout of today's distributions. panic=-1: a dead init ends the VM.
    '-append', 'console=ttyS0 loglevel=4 quiet panic=-1 rdinit=/init cgroup_no_v1=all',
    '-virtfs', 'local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${o.ioDir},mount_tag=io,security_model=none`,
    '-nic', 'none',
  ];
  const child: ChildProcess = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let console = '';
  let pending = '';
  let ready = false;
  const readyWaiters: Array<(ok: boolean) => void> = [];
  const take = (chunk: Buffer) => {
    const text = chunk.toString('utf8').replace(/\r/g, '');
    console += text;
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const l of lines) {
      if (!ready && READY.test(l)) {
        ready = true;
        for (const w of readyWaiters.splice(0)) w(true);
      }
      o.onLine?.(l);
    }
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  let timedOut = false;
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, o.timeoutMs);
  // A test worker that dies takes its VM with it.
  process.once('exit', kill);
  const done = new Promise<{ code: number | null; timedOut: boolean; console: string }>((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`qemu-system-x86_64 could not start (${err.message}): run test/vm/setup.sh's apt packages (qemu-system-x86)`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      process.off('exit', kill);
      if (pending) o.onLine?.(pending);
      for (const w of readyWaiters.splice(0)) w(false);
      resolve({ code, timedOut, console });
    });
  });
  const whenReady = (ms: number) => (ready ? Promise.resolve(true) : new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    readyWaiters.push((ok) => {
      clearTimeout(timer);
      resolve(ok);
    });
  }));
  return { done, kill, whenReady, accel };
}
