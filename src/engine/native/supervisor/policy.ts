import type { RestartPolicy } from '../../types.js';
import type { HealthLogEntry, ResolvedHealthcheck, SupervisorState } from '../engine/records.js';

/**
 * The supervisor's decisions, as pure functions (no clock, no files), so
 * that they can be tested against Docker's rules directly:
 * moby's restartmanager (backoff 100 ms doubling to a minute, reset after
 * 10 s of running; on-failure's retry limit) and daemon/health.go (probe
 * intervals, start period, failing streak, the last five results).
 */

export const BACKOFF_START_MS = 100;
export const BACKOFF_MAX_MS = 60_000;
export const HEALTH_LOG_ENTRIES = 5;
export const HEALTH_OUTPUT_BYTES = 4096;

export interface ExitFacts {
  exitCode: number;
  /** How long the run lasted. */
  runMs: number;
  /** The user stopped or killed it (docker's HasBeenManuallyStopped). */
  manuallyStopped: boolean;
  /** The user asked for it to stay stopped (stop, or kill with the stop signal). */
  stopRequested: boolean;
}

export interface RestartDecision {
  restart: boolean;
  /** The bookkeeping after this exit (the backoff grows whether or not it restarts, as Docker's does). */
  next: Pick<SupervisorState, 'restartCount' | 'backoffMs'>;
  delayMs: number;
}

export function decideRestart(policy: RestartPolicy, facts: ExitFacts, prev: Pick<SupervisorState, 'restartCount' | 'backoffMs'>): RestartDecision {
  if (policy.name === 'no' || facts.stopRequested) return { restart: false, next: prev, delayMs: 0 };
  let backoff = facts.runMs >= 10_000 ? 0 : prev.backoffMs;
  backoff = backoff === 0 ? BACKOFF_START_MS : Math.min(backoff * 2, BACKOFF_MAX_MS);
  let restart = false;
  if (policy.name === 'always') restart = true;
  else if (policy.name === 'unless-stopped') restart = !facts.manuallyStopped;
  else if (policy.name === 'on-failure') {
    const max = policy.maxRetries ?? 0;
    if (max === 0 || prev.restartCount < max) restart = facts.exitCode !== 0;
  }
  if (!restart) return { restart: false, next: { restartCount: prev.restartCount, backoffMs: backoff }, delayMs: 0 };
  return { restart: true, next: { restartCount: prev.restartCount + 1, backoffMs: backoff }, delayMs: backoff };
}

export type HealthState = NonNullable<SupervisorState['health']>;

/**
 * When the next probe runs, counted from the last one (or from the start):
 * within the start period and while still `starting`, after the start
 * interval; otherwise after the interval (Docker 25+).
 */
export function nextProbeDelay(h: ResolvedHealthcheck, sinceStartMs: number, status: HealthState['status']): number {
  if (sinceStartMs >= h.startPeriod) return h.interval;
  return status === 'starting' ? h.startInterval : h.interval;
}

/** A probe's result applied to the health state. */
export function applyProbe(h: ResolvedHealthcheck, prev: HealthState, result: HealthLogEntry, startedAtMs: number): HealthState {
  const log = [...prev.log, result].slice(-HEALTH_LOG_ENTRIES);
  if (result.exitCode === 0) return { ...prev, status: 'healthy', failingStreak: 0, log };
  // A failure while still starting, inside the start period, does not count.
  if (prev.status === 'starting' && result.start - startedAtMs < h.startPeriod) return { ...prev, log };
  const failingStreak = prev.failingStreak + 1;
  return { ...prev, failingStreak, status: failingStreak >= h.retries ? 'unhealthy' : prev.status, log };
}

/** Output as Docker keeps it: at most 4096 bytes. */
export function truncateOutput(out: Buffer): string {
  return out.subarray(0, HEALTH_OUTPUT_BYTES).toString('utf8');
}
