import { appendFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHECKS } from './checks.js';
import { Ctx, type CheckResult, type SuiteConfig } from './context.js';

/**
 * The engine suite's runner: the same program in a VM (its whole job; the
 * harness bundles it into the VM's shared folder) and on the host. It runs
 * every check in order, each to its end, and appends one JSON line per check
 * to the results file as it goes, so that a VM that dies mid-way still
 * tells which checks ran. Its exit status is 0 when it ran them all.
 */

const PER_CHECK_MS = 5 * 60_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function main(): Promise<void> {
  const configPath = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), 'config.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as SuiteConfig;
  const ctx = new Ctx(config);
  for (const check of CHECKS) {
    ctx.transcript = '';
    const started = Date.now();
    let error: string | undefined;
    try {
      await withTimeout(check.run(ctx), PER_CHECK_MS, check.name);
    } catch (err) {
      error = err instanceof Error ? err.stack ?? err.message : String(err);
    }
    const result: CheckResult = { name: check.name, ok: error === undefined, ms: Date.now() - started, transcript: ctx.transcript, ...(error ? { error } : {}) };
    appendFileSync(config.results, `${JSON.stringify(result)}\n`);
    process.stdout.write(`suite: ${result.ok ? 'ok  ' : 'FAIL'} ${check.name} (${(result.ms / 1000).toFixed(1)} s)\n`);
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`suite: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
