import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { helperPath } from '../../src/engine/native/runtime/helper.js';
import { KERNEL_FLOOR, kernelRefusal, parseProbe } from '../../src/engine/native/runtime/kernel.js';

/**
 * The kernel floor: the helper's probe tries the interfaces without a
 * fallback; a kernel that lacks one is refused in one sentence. (The
 * fallbacks themselves run in the VM suite, test/vm, on kernels that need them.)
 */
describe('kernel floor', () => {
  it('this kernel has every interface the helper cannot do without', () => {
    expect(execFileSync(helperPath(), ['probe'], { encoding: 'utf8' })).toBe('ok 0\n');
  });

  it('a kernel older than the floor gets one sentence naming what it lacks, not EINVAL', () => {
    const missing = parseProbe('missing openat2 5.6\nmissing setns(pidfd) 5.8\nok 2\n');
    expect(missing).toEqual([{ feature: 'openat2', since: '5.6' }, { feature: 'setns(pidfd)', since: '5.8' }]);
    const err = kernelRefusal('5.4.0-150-generic', missing);
    expect(err.message).toBe(`Linux 5.4.0-150-generic is too old for tscompose's engine, which needs Linux ${KERNEL_FLOOR} or later: `
      + 'this kernel lacks openat2 (Linux 5.6), setns(pidfd) (Linux 5.8)');
    expect(err.message.split('. ')).toHaveLength(1);
    expect(err.hint).toMatch(/newer kernel|--backend docker/);
  });

  it('a kernel without overlayfs is told to load it', () => {
    const err = kernelRefusal('6.1.0', parseProbe('missing overlay -\nok 1\n'));
    expect(err.message).toBe("this kernel (Linux 6.1.0) has no overlay filesystem, which tscompose's containers are made of");
    expect(err.hint).toMatch(/modprobe overlay/);
  });

  it('a probe that says nothing is a bug, not a pass', () => {
    expect(() => parseProbe('')).toThrow(/no answer/);
  });
});
