import { describe, it, expect, afterEach } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ensureDockerd } from '../support/docker.js';
import { busyboxRootfsTar } from '../support/images.js';
import { checkNoLeaks, makeRuntimeRoot, runToEnd, sh } from './helpers.js';

afterEach(checkNoLeaks);

describe('runtime: isolation (acceptance 1)', () => {
  it('runs the command as PID 1 of its own pid namespace, with its own hostname; host processes are invisible', async () => {
    const root = await makeRuntimeRoot();
    const r = await runToEnd(root, {
      hostname: 'box1',
      ...sh('echo "pid1=$(cat /proc/1/cmdline | tr "\\0" " ")"; echo "self=$$"; echo "host=$(hostname)"; echo "procs=$(ls /proc | grep -c "^[0-9]")"; ls /proc/' + process.pid + ' 2>&1 | head -1'),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`pid1=sh -c `);
    expect(r.stdout).toContain('self=1\n');
    expect(r.stdout).toContain('host=box1\n');
    // sh, the command substitution's subshell and ls: nothing of the host's hundreds of processes.
    expect(Number(/procs=(\d+)/.exec(r.stdout)![1])).toBeLessThanOrEqual(4);
    expect(r.stdout).toMatch(/No such file or directory/);
    await root.runtime.remove(r.id);
  });

  it('has a read-only /proc/sys and /sys, and Docker\'s masked paths', async () => {
    const root = await makeRuntimeRoot();
    const r = await runToEnd(root, sh([
      'echo x > /proc/sys/kernel/domainname && echo procsys-writable',
      'touch /sys/kernel/x 2>/dev/null && echo sys-writable',
      'echo h > /proc/sysrq-trigger 2>/dev/null && echo sysrq-writable',
      'grep -E " /sys (sysfs|ro)" /proc/mounts | head -1',
      'grep -E " /proc/sys " /proc/mounts | head -1',
      'cat /proc/timer_list 2>&1 | wc -c',
      'ls /sys/firmware 2>&1 | wc -l',
    ].join('; ')));
    expect(r.stdout).not.toContain('writable');
    expect(r.stdout).toMatch(/sysfs \/sys sysfs ro,/);
    expect(r.stdout).toMatch(/proc \/proc\/sys proc ro,/);
    const counts = r.stdout.trim().split('\n').slice(-2).map(Number);
    expect(counts).toEqual([0, 0]);
    expect(r.stderr).toMatch(/Read-only file system/);
    await root.runtime.remove(r.id);
  });

  it('holds Docker\'s default capabilities: CapEff equals `docker run` of the same image', async () => {
    const root = await makeRuntimeRoot();
    const r = await runToEnd(root, sh('grep -E "^Cap(Eff|Bnd|Prm|Inh|Amb)" /proc/self/status'));
    const ours = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(/:\s+/) as [string, string]));
    expect(ours.CapEff).toBe('00000000a80425fb');
    expect(ours.CapBnd).toBe('00000000a80425fb');
    expect(ours.CapInh).toBe('0000000000000000');
    await root.runtime.remove(r.id);

    await ensureDockerd();
    const tag = `tsc-rt-caps:${randomBytes(4).toString('hex')}`;
    execFileSync('docker', ['import', await busyboxRootfsTar(), tag], { stdio: 'ignore' });
    try {
      const docker = execFileSync('docker', ['run', '--rm', '--network', 'none', tag, 'grep', '^CapEff', '/proc/self/status'], { encoding: 'utf8' });
      expect(docker.trim().split(/:\s+/)[1]).toBe(ours.CapEff);
    } finally {
      execFileSync('docker', ['rmi', '-f', tag], { stdio: 'ignore' });
    }
  });

  it('writes land in the container\'s upper layer only', async () => {
    const root = await makeRuntimeRoot();
    const r = await runToEnd(root, sh('echo data > /etc/newfile; echo changed >> /etc/passwd; rm /bin/vi; mkdir -p /var/x/y'));
    expect(r.code).toBe(0);
    const layout = (await root.store.prepareRootfs(r.id, 'busybox'));
    expect(readFileSync(join(layout.upperDir, 'etc/newfile'), 'utf8')).toBe('data\n');
    expect(readFileSync(join(layout.upperDir, 'etc/passwd'), 'utf8')).toContain('changed');
    expect(existsSync(join(layout.upperDir, 'var/x/y'))).toBe(true);
    for (const lower of layout.lowerDirs) {
      expect(existsSync(join(lower, 'etc/newfile'))).toBe(false);
      expect(readFileSync(join(lower, 'etc/passwd'), 'utf8')).not.toContain('changed');
      expect(existsSync(join(lower, 'bin/vi'))).toBe(true);
    }
    await root.runtime.remove(r.id);
  });

  it('leaves no fd of the engine open inside: PID 1 and exec\'d processes hold only 0, 1 and 2', async () => {
    const root = await makeRuntimeRoot();
    const id = await root.create({ cmd: ['sleep', '100'] });
    await root.runtime.start(id);
    const pid1 = await root.runtime.execCapture(id, { cmd: ['ls', '/proc/1/fd'] });
    expect(pid1.stdout.trim().split(/\s+/).sort()).toEqual(['0', '1', '2']);
    // ls opens /proc/self/fd itself: that one is the only extra.
    const self = await root.runtime.execCapture(id, { cmd: ['sh', '-c', 'ls -l /proc/$$/fd'] });
    expect(self.stdout.split('\n').filter((l) => / \d+ -> /.test(l)).map((l) => / (\d+) -> /.exec(l)![1]).sort()).toEqual(['0', '1', '2']);
    await root.runtime.remove(id, { force: true });
  });
});
