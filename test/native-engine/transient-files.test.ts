import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { ready, useNativeEngine } from './harness.js';
import { nativeBuild } from './support.js';

/**
 * start, exec and cp hand their configs to the helper on a pipe: no transient file
 * under the run root that a CLI killed mid-way, or a container removed under
 * a racing cp, could leave behind (9 of 80 racing cps left cp-*.conf).
 */

function childrenOf(parent: number): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent;
    } catch {
      return false;
    }
  });
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      const st = statSync(p, { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out.filter((p) => /\.conf$/.test(p));
}

describe('transient helper configs', () => {
  const t = useNativeEngine();

  it('none exists while a cp runs, nor after its CLI is killed -9, nor after cps race a removal', async () => {
    await ready(t);
    const id = await t.container({ cmd: ['sleep', '600'] });
    const { cli } = await nativeBuild();
    // A cp whose tar never ends: the helper is running, waiting for entries.
    const cp = spawn(process.execPath, [cli, 'container', 'cp', '-', `${id}:/tmp`], { env: { ...process.env, ...t.root().env }, stdio: ['pipe', 'ignore', 'pipe'] });
    cp.stdin.write(Buffer.alloc(512 * 3));
    let err = '';
    cp.stderr.on('data', (d) => (err += d));
    for (let i = 0; !childrenOf(cp.pid!).length; i++) {
      if (i > 500) throw new Error(`no helper under the cp CLI: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(filesUnder(t.root().run)).toEqual([]);
    cp.kill('SIGKILL');
    await new Promise((r) => cp.on('exit', r));
    expect(filesUnder(t.root().run)).toEqual([]);

    // Racing copies in and out while the container goes.
    const copies = Array.from({ length: 20 }, (_, i) =>
      i % 2 ? t.engine().containers.getArchive(id, '/etc/passwd').then(({ stream }) => stream.on('error', () => undefined).resume()) : t.engine().containers.putArchive(id, '/tmp', Readable.from([Buffer.alloc(1024)])),
    );
    const removal = t.engine().containers.remove(id, { force: true });
    await Promise.allSettled([...copies, removal]);
    expect(filesUnder(t.root().run)).toEqual([]);
  });
});

