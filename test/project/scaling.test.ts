import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject } from '../../src/project/load.js';

/**
 * The loader's work grows linearly with the file: a 20 MB compose file took
 * 99 s in `config` (2 MB: 1.2 s, 5 MB: 4.5 s), because the YAML library
 * compared every mapping key with every earlier one. Measured without a
 * clock: the callbacks of Array.prototype.some/find/findIndex/filter/every
 * (where such scans live, in our code and the YAML library's) are counted
 * for a file and for one four times its size.
 */

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function composeFile(services: number): string {
  const out = ['services:'];
  for (let i = 0; i < services; i++) {
    out.push(`  svc${i}:`, '    image: busybox:latest', `    command: ["sh", "-c", "echo hello ${i}"]`, '    environment:', '      A: "1"', '    labels:', `      x.y: "z${i}"`);
  }
  return out.join('\n') + '\n';
}

const SCANS = ['some', 'find', 'findIndex', 'filter', 'every'] as const;

/** Runs `fn` with the callbacks of the array scans counted. */
async function countScans(fn: () => Promise<unknown>): Promise<number> {
  let calls = 0;
  const saved = SCANS.map((m) => [m, Array.prototype[m]] as const);
  for (const [m, orig] of saved) {
    (Array.prototype as unknown as Record<string, unknown>)[m] = function (this: unknown[], cb: (...a: unknown[]) => unknown, thisArg?: unknown) {
      return (orig as (...a: unknown[]) => unknown).call(this, (...a: unknown[]) => {
        calls++;
        return cb.apply(thisArg, a);
      });
    };
  }
  try {
    await fn();
  } finally {
    for (const [m, orig] of saved) (Array.prototype as unknown as Record<string, unknown>)[m] = orig;
  }
  return calls;
}

async function load(services: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-scale-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'compose.yaml'), composeFile(services));
  return countScans(() => loadProject({ cwd: dir, environment: {}, onWarning: () => {}, projectName: 'big' }));
}

describe('loader scaling', () => {
  it('does linear work: four times the services, at most five times the scans', async () => {
    const small = await load(1000);
    const big = await load(4000);
    expect(small).toBeGreaterThan(0);
    console.log(`array-scan callbacks: 1000 services ${small}, 4000 services ${big} (x${(big / small).toFixed(2)})`);
    expect(big / small).toBeLessThan(5);
  });

  it('loads a file with more nodes than the alias-expansion limit when it has no aliases', async () => {
    // 210,000 nodes, more than the 200,000 an alias expansion may reach (a 20 MB file has millions).
    const dir = mkdtempSync(join(tmpdir(), 'tsc-scale-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'compose.yaml'), `services:\n  web:\n    image: busybox\n    command: [${Array(210_000).fill('x').join(', ')}]\n`);
    const p = await loadProject({ cwd: dir, environment: {}, onWarning: () => {}, projectName: 'big' });
    expect(p.services.web!.command).toHaveLength(210_000);
  });
});
