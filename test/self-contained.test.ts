import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/cache.js';

/**
 * A clone must hold everything its tests read: no file of src/, test/ or
 * bench/ may reach outside the checkout for material (a sibling folder that
 * only some machines have), and src/ never reads the test-only reference
 * schema. The files are those git tracks, as a clone has them.
 */
const tracked = execFileSync('git', ['ls-files', '-z', 'src', 'test', 'bench'], { cwd: repoRoot, encoding: 'utf8' })
  .split('\0')
  .filter((f) => /\.(ts|mts|cts|js|mjs|cjs|sh|json)$/.test(f));

// Written in two halves so that this file does not match itself.
const OUTSIDE = ['..', '/shared'].join('');

describe('the checkout is self-contained', () => {
  it('has source files to check', () => {
    expect(tracked.filter((f) => f.startsWith('src/')).length).toBeGreaterThan(50);
  });

  it('no file of src/, test/ or bench/ refers to the folder beside the checkout', () => {
    const offenders = tracked.filter((f) => readFileSync(join(repoRoot, f), 'utf8').includes(OUTSIDE));
    expect(offenders).toEqual([]);
  });

  it('src/ never reads the reference schema kept for tests', () => {
    const offenders = tracked
      .filter((f) => f.startsWith('src/'))
      .filter((f) => /compose-spec\.json|test\/reference/.test(readFileSync(join(repoRoot, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
