/**
 * Progress as events (Compose's pkg/api/event.go): what happens to which
 * resource, decoupled from how it is shown. The executor and the image
 * actions report these; the compose layer passes them on to whoever listens
 * (the CLI's renderers, a Node API user).
 */
export type EventStatus = 'working' | 'done' | 'warning' | 'error';

export interface ProgressEvent {
  /** The resource, as people read it: `Container shop-web-1`, `Network shop_default`, `Volume "shop_data"`. */
  id: string;
  status: EventStatus;
  /** What happens: Creating, Created, Starting, Started, Waiting, Healthy, Stopping, Removed... */
  text: string;
  details?: string;
  /** For sub-tasks (layers of a pull): the resource they belong to. */
  parentId?: string;
  current?: number;
  total?: number;
  /** Milliseconds since the epoch. */
  time: number;
}

/** Where progress goes; `time` is filled in when left out. */
export type ProgressSink = (e: Omit<ProgressEvent, 'time'> & { time?: number }) => void;
