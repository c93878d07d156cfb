import type { ContainerRuntime } from '../runtime/index.js';
import type { HealthLogEntry, ResolvedHealthcheck } from '../engine/records.js';
import { probeArgv } from '../engine/healthcheck.js';
import { HEALTH_OUTPUT_BYTES, truncateOutput } from './policy.js';

/**
 * One healthcheck probe: the test run in the container as an exec (its user,
 * environment and working dir), stdout and stderr together as Docker keeps
 * them, killed when it outlives the timeout (exit -1, Docker's message).
 */
export async function runProbe(rt: ContainerRuntime, id: string, h: ResolvedHealthcheck): Promise<HealthLogEntry> {
  const start = Date.now();
  let handle;
  try {
    handle = await rt.execStart(id, { cmd: probeArgv(h), tty: false, stdin: false }, 'pipe');
  } catch (err) {
    return { start, end: Date.now(), exitCode: -1, output: `failed to run the healthcheck: ${(err as Error).message}` };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const collect = (b: Buffer) => {
    if (size >= HEALTH_OUTPUT_BYTES) return;
    chunks.push(b);
    size += b.length;
  };
  handle.run.stdout?.on('data', collect);
  handle.run.stderr?.on('data', collect);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(handle.pid, 'SIGKILL');
    } catch { /* gone already */ }
  }, h.timeout);
  const exitCode = await handle.exit;
  clearTimeout(timer);
  if (timedOut) return { start, end: Date.now(), exitCode: -1, output: `Health check exceeded timeout (${formatDuration(h.timeout)})` };
  return { start, end: Date.now(), exitCode, output: truncateOutput(Buffer.concat(chunks)) };
}

/** Go's time.Duration String() for whole milliseconds: "5s", "1.5s", "300ms", "1m30s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const m = Math.floor(ms / 60_000);
  const s = (ms % 60_000) / 1000;
  return m ? `${m}m${s}s` : `${s}s`;
}
