import type { ContainerState, HealthStatus } from './types.js';

import { humanDuration } from '../util/human.js';

export { humanDuration, humanSize } from '../util/human.js';

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

