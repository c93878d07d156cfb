import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ready, useNativeEngine } from './harness.js';
import { BUSYBOX, hostLeftovers } from './support.js';

/**
 * A soak: 100 containers up and down ten times while the daemon lives (kept
 * alive by a small project that publishes a port all along). From the second
 * loop on nothing may grow: the root's processes, cgroups, mounts, links,
 * firewall rules and namespace handles after each `down` are exactly those of
 * the anchor project, the daemon is the same process with the same number of
 * open files, and its memory stays within a few MiB (figures printed).
 */
const SERVICES = 100;
const LOOPS = 10;

const ANCHOR = `
services:
  anchor:
    image: ${BUSYBOX}
    command: ["sh", "-c", "mkdir -p /www; echo up > /www/index.html; exec httpd -f -p 8080 -h /www"]
    init: true
    ports: ["127.0.0.1::8080"]
`;

function soakFile(n: number): string {
  const services = Array.from({ length: n }, (_, i) => `  s${i}:\n    image: ${BUSYBOX}\n    command: ["sleep", "3600"]\n    init: true\n`);
  return `services:\n${services.join('')}`;
}

interface DaemonFigures { pid: number; fds: number; rssKiB: number }

function daemonFigures(pid: number): DaemonFigures {
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { pid, fds: readdirSync(`/proc/${pid}/fd`).length, rssKiB: Number(rss?.[1] ?? 0) };
}

describe('a soak of the native engine', () => {
  const t = useNativeEngine();

  it(`${SERVICES} containers up and down ${LOOPS} times: nothing of ours grows from the second loop on`, async () => {
    await ready(t);
    const anchor = await t.compose(['-p', 'anchor', 'up', '-d', '--wait'], ANCHOR);
    expect(anchor.code, anchor.stderr).toBe(0);
    const soak = join(t.root().dir, 'soak.yaml');
    writeFileSync(soak, soakFile(SERVICES));
    const [daemon] = t.daemons();
    expect(daemon).toBeDefined();

    const figures: DaemonFigures[] = [];
    let baseline: string[] = [];
    try {
      for (let loop = 1; loop <= LOOPS; loop++) {
        const t0 = Date.now();
        const up = await t.compose(['-p', 'soak', '-f', soak, 'up', '-d']);
        expect(up.code, up.stderr).toBe(0);
        const t1 = Date.now();
        const down = await t.compose(['-p', 'soak', '-f', soak, 'down', '-t', '0']);
        expect(down.code, down.stderr).toBe(0);
        expect(t.daemons(), 'the same daemon serves every loop').toEqual([daemon]);
        // The daemon closes a client's connection after the client has gone: let that settle.
        let f = daemonFigures(daemon!);
        for (let i = 0; i < 40 && figures.length > 1 && f.fds > figures[1]!.fds; i++) {
          await new Promise((r) => setTimeout(r, 50));
          f = daemonFigures(daemon!);
        }
        figures.push(f);
        const left = hostLeftovers(t.root()).sort();
        console.log(`loop ${loop}: up ${t1 - t0} ms, down ${Date.now() - t1} ms; daemon ${f.fds} fds, ${(f.rssKiB / 1024).toFixed(1)} MiB; ${left.length} things of the root in the kernel`);
        if (loop === 2) baseline = left;
        if (loop > 2) {
          expect(left).toEqual(baseline);
          expect(f.fds).toBeLessThanOrEqual(figures[1]!.fds);
        }
      }
      const growthMiB = (figures[LOOPS - 1]!.rssKiB - figures[1]!.rssKiB) / 1024;
      console.log(`daemon memory from loop 2 to loop ${LOOPS}: ${growthMiB >= 0 ? '+' : ''}${growthMiB.toFixed(1)} MiB`);
      expect(growthMiB).toBeLessThan(8);
    } finally {
      await t.compose(['-p', 'soak', '-f', soak, 'down', '-t', '0']);
      await t.compose(['-p', 'anchor', 'down', '-t', '0']);
    }
  }, 1_200_000);
});
