/**
 * What the long-lived daemon hosts. The daemon itself is generic: a control
 * socket, a lifecycle, and a list of services. Networking (DNS and published
 * ports) is one service; the orchestrator's supervisor (restart policies,
 * healthchecks) can register as another without touching the daemon. The
 * daemon lives while any service wants it to.
 */
export interface DaemonService {
  readonly name: string;
  /** Builds the service's tables from state on disk: a restarted daemon serves what the last one served. */
  start(): Promise<void>;
  /** State on disk changed: catch up with it. */
  reload(): Promise<void>;
  /** Control operations this service answers, by op name. */
  readonly ops: Record<string, (req: Record<string, unknown>) => Promise<unknown>>;
  /** False when the service has nothing left to do (the daemon exits when every service says so). */
  keepsAlive(): boolean;
  /**
   * Last work before the daemon leaves (every service said it has nothing left to do). False when it
   * cannot be done now (another process holds a lock it needs): the daemon stays and asks again later.
   */
  windDown?(): Promise<boolean>;
  status(): unknown;
  stop(): Promise<void>;
}

export type ServiceFactory = (log: (msg: string) => void) => DaemonService;
