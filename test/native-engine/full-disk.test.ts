import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, closeSync, statfsSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/util/proc.js';
import { busyboxRootfsTar } from '../support/images.js';
import { BUSYBOX, disposeNativeBuild, forceRemoveRoot, importBusybox, nativeBuild, nativeRoot, settledLeftovers } from './support.js';
import { processesOf } from '../runtime/helpers.js';

/**
 * A 40 MB state root filled by a container's log (no cap asked for): the
 * verbs that free space work, the monitor backs off instead of spinning on
 * failing writes and says how much it dropped, `ps` tells the truth, exit
 * codes are recorded, a stopped `restart: always` container stays stopped,
 * and an image import says "no space left on device".
 */

const FILE = `services:
  spew:
    image: ${BUSYBOX}
    command: ["sh", "-c", "while true; do echo 0123456789012345678901234567890123456789012345678901234567890123456789; done"]
    logging: { driver: json-file }
  quiet:
    image: ${BUSYBOX}
    command: ["sleep", "600"]
  keeper:
    image: ${BUSYBOX}
    command: ["sleep", "600"]
    restart: always
`;

function freeBytes(path: string): number {
  const s = statfsSync(path);
  return s.bavail * s.bsize;
}

/** CPU seconds (user + system) a process used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
}

function head(path: string, bytes: number): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    return buf.subarray(0, readSync(fd, buf, 0, bytes, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

describe('a full state root', () => {
  it('rm -f, stop and down work; the monitor backs off; ps and exit codes stay true; import says no space', async () => {
    const { cli } = await nativeBuild();
    const root = nativeRoot('tsc-full-');
    mkdirSync(root.state, { recursive: true, mode: 0o700 });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=40m,mode=0700', 'tmpfs', root.state]);
    const compose = (args: string[]) =>
      run(process.execPath, [cli, '--progress', 'plain', ...args], { cwd: root.dir, env: { ...process.env, ...root.env, NO_COLOR: '1', COMPOSE_PROJECT_NAME: 'full' } });
    try {
      await importBusybox();
      writeFileSync(join(root.dir, 'compose.yaml'), FILE);
      const up = await compose(['up', '-d']);
      expect(up.code, up.stderr).toBe(0);
      for (let i = 0; freeBytes(root.state) > 0; i++) {
        if (i > 1200) throw new Error(`the log did not fill the disk: ${freeBytes(root.state)} bytes free`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const spew = (await compose(['ps', '-q', 'spew'])).stdout.trim();
      const monitor = Number(readlinkSync(join(root.run, 'containers', spew, 'monitor.pid')).split(' ')[0]);

      // Backing off: a few percent of one core at most while the disk stays full (it spun at 30-40 %).
      const cpu0 = cpuSeconds(monitor);
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 4000));
      const share = (cpuSeconds(monitor) - cpu0) / ((Date.now() - t0) / 1000);
      console.log(`monitor CPU while the disk is full: ${(share * 100).toFixed(2)} %`);
      expect(share).toBeLessThan(0.02);
      const ps = await compose(['ps', '--format', '{{.Service}} {{.State}}']);
      expect(ps.stdout.split('\n').filter(Boolean).sort()).toEqual(['keeper running', 'quiet running', 'spew running']);

      // Room again for a moment: the monitor says what it dropped.
      const log = join(root.state, 'containers', spew, 'container.log');
      truncateSync(log, 0);
      let seen = '';
      for (let i = 0; i < 200 && !/bytes of output were dropped/.test(seen); i++) {
        await new Promise((r) => setTimeout(r, 50));
        // The note is among the first records after the room came back; the log may have been rotated since.
        seen = ['', '.1', '.2'].map((n) => (existsSync(log + n) ? head(log + n, 1 << 20) : '')).join('');
      }
      expect(seen).toMatch(/ stderr F tscompose: \d+ bytes of output were dropped: no space left for the log\n/);
      for (let i = 0; freeBytes(root.state) > 0 && i < 1200; i++) await new Promise((r) => setTimeout(r, 50));
      expect(freeBytes(root.state)).toBe(0);

      const imported = await run(process.execPath, [cli, 'image', 'import', await busyboxRootfsTar(), 'tsc-test/again:1'], { env: { ...process.env, ...root.env } });
      expect(imported.code).not.toBe(0);
      expect(imported.stderr).toContain('no space left on device');
      expect(imported.stderr).not.toMatch(/malformed|malicious|Premature close/);

      const quiet = (await compose(['ps', '-q', 'quiet'])).stdout.trim();
      const rm = await run(process.execPath, [cli, 'container', 'rm', '-f', quiet], { env: { ...process.env, ...root.env } });
      expect(rm.code, rm.stderr).toBe(0);
      // A restart policy does not undo a stop on a full disk: the user's intent is recorded all the same.
      const stopKeeper = await compose(['stop', '-t', '1', 'keeper']);
      expect(stopKeeper.code, stopKeeper.stderr).toBe(0);
      await new Promise((r) => setTimeout(r, 2000));
      expect((await compose(['ps', '-a', '--format', '{{.Service}} {{.State}}'])).stdout).toMatch(/^keeper exited$/m);
      const stop = await compose(['stop', '-t', '1', 'spew']);
      expect(stop.code, stop.stderr).toBe(0);
      // PID 1 (sh) has no handler for SIGTERM: killed, 137, and recorded so on a full disk.
      expect((await compose(['ps', '-a', '--format', '{{.Service}} {{.Status}}'])).stdout).toMatch(/^spew Exited \(137\)/m);
      // A start that cannot be recorded fails whole: the container is not left running behind an error.
      const start = await compose(['start', 'spew']);
      expect(start.code).not.toBe(0);
      expect(start.stderr).toContain('no space left on device');
      expect((await compose(['ps', '-a', '--format', '{{.Service}} {{.State}}'])).stdout).toMatch(/^spew exited/m);
      const down = await compose(['down']);
      expect(down.code, down.stderr).toBe(0);
      expect(readdirSync(join(root.state, 'containers'))).toEqual([]);
      // The project's daemon (DNS, the restart supervisor) goes by itself once down has left it nothing
      // to serve, and keeps its log open in the state root until then: the root is ours to unmount after it.
      for (const deadline = Date.now() + 10_000; processesOf(root.state).length && Date.now() < deadline;) {
        await new Promise((r) => setTimeout(r, 50));
      }
      execFileSync('umount', [root.state]); // ours, not a leak
      expect(await settledLeftovers(root, 10_000)).toEqual([]);
    } finally {
      await compose(['down', '-t', '0']).catch(() => undefined);
      spawnSync('umount', ['-l', root.state]); // already gone when the test got that far
      forceRemoveRoot(root);
      disposeNativeBuild();
    }
  });
});
