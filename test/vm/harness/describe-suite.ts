import { afterAll, beforeAll, describe, it } from 'vitest';
import { CHECKS } from '../suite/checks.js';
import type { SuiteRun } from './run-suite.js';

/**
 * One vitest `it` per check of the engine suite, on one target: a failure
 * names the check and shows its error and transcript (every CLI call with its
 * output), and, for a VM, the end of the guest's console.
 */

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}

export function describeEngineSuite(title: string, runSuite: () => Promise<SuiteRun>, timeoutMs: number): void {
  describe(title, () => {
    let run: SuiteRun | undefined;
    let crash: unknown;

    beforeAll(async () => {
      try {
        run = await runSuite();
      } catch (err) {
        crash = err;
      }
    }, timeoutMs + 120_000);

    afterAll(() => {
      if (!run) return;
      const lines = run.results.map((r) => `  ${r.ok ? 'ok  ' : 'FAIL'} ${(r.ms / 1000).toFixed(1).padStart(6)} s  ${r.name}`);
      process.stdout.write(`engine suite on ${run.target}${run.accel ? ` (${run.accel})` : ''}: ${run.seconds.toFixed(0)} s, `
        + `${run.results.filter((r) => r.ok).length}/${CHECKS.length} checks passed\n${lines.join('\n')}\n`);
    });

    const ran = (): SuiteRun => {
      if (!run) throw crash instanceof Error ? crash : new Error(String(crash));
      return run;
    };

    it('runs to its end', () => {
      const r = ran();
      if (r.problem) throw new Error(`${r.problem}\n--- output (last 80 lines) ---\n${tail(r.output, 80)}`);
    });

    for (const check of CHECKS) {
      it(check.name, () => {
        const r = ran();
        const result = r.results.find((x) => x.name === check.name);
        if (!result) throw new Error(`${check.name}: no result (the run on ${r.target} stopped before it)\n--- output (last 80 lines) ---\n${tail(r.output, 80)}`);
        if (!result.ok) throw new Error(`${check.name} failed on ${r.target}:\n${result.error}\n--- transcript ---\n${result.transcript}`);
      });
    }
  });
}
