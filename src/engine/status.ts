import type { ContainerState, HealthStatus } from './types.js';

/**
 * Durations, sizes and container statuses as Docker prints them (go-units
 * HumanDuration and HumanSize), so that `ps`, `images` and `ls` read the same
 * on both backends; an engine that keeps its own state builds its status
 * strings here.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

/** Decimal units with up to 4 significant digits: "1.23MB", "512B". */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** Docker's human status for a container, as `docker ps` prints it. */
export function humanStatus(state: ContainerState, now: number, startedAt?: number, finishedAt?: number, exitCode = 0, health?: HealthStatus): string {
  switch (state) {
    case 'running':
    case 'paused': {
      const up = `Up ${humanDuration(now - (startedAt ?? now))}`;
      const h = health === 'starting' ? ' (health: starting)' : health ? ` (${health})` : '';
      return up + (state === 'paused' ? ' (Paused)' : h);
    }
    case 'restarting':
      return `Restarting (${exitCode}) ${humanDuration(now - (finishedAt ?? now))} ago`;
    case 'exited':
      return finishedAt ? `Exited (${exitCode}) ${humanDuration(now - finishedAt)} ago` : `Exited (${exitCode})`;
    case 'created':
      return 'Created';
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
  }
}

