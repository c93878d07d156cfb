import type { WatchEvent } from '../../compose/watch.js';

/**
 * What `watch` and `up --watch` print as they apply develop.watch rules:
 * Compose's lines (on stderr, beside the progress), one per action.
 */
export function watchLine(e: WatchEvent): string | undefined {
  switch (e.type) {
    case 'watching':
      return `Watch enabled (${e.services.join(', ')})`;
    case 'synced': {
      const n = e.copied.length + e.removed.length;
      return e.initial ? `Initial sync of service "${e.service}" (${e.container}): ${n} paths` : `Syncing service "${e.service}" (${e.container}) after ${n} changes were detected`;
    }
    case 'restarted':
      return `Restarted service "${e.service}"`;
    case 'executed':
      return undefined; // a failed exec is a `failed` event, with the exec's output
    case 'rebuilding':
      return `Rebuilding service "${e.service}" after changes were detected...`;
    case 'rebuilt':
      return `service "${e.service}" successfully built${e.pruned.length ? ` (pruned ${e.pruned.length} images)` : ''}`;
    case 'failed':
      return `Error: ${e.action} of service "${e.service}" failed: ${e.message}`;
  }
}

/** Prints each event's line on `out`. */
export function printWatchEvents(out: NodeJS.WritableStream): (e: WatchEvent) => void {
  return (e) => {
    const line = watchLine(e);
    if (line) out.write(`${line}\n`);
  };
}
