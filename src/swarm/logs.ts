import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';

/**
 * A stack's logs across its nodes, through the manager: the service logs
 * endpoint (`GET /services/{id}/logs`) gathers every task's output from the
 * node that runs it. Asked with `details`, each line says which node, service
 * and task it comes from (as the docker CLI asks and reads it), which is how
 * a line gets its `<service>.<slot>@<node>` prefix.
 */

export interface SwarmLogLine {
  /** `<service>.<slot>@<node>` (a global service's tasks: `<service>.<task id 12>@<node>`). */
  source: string;
  stream: 'stdout' | 'stderr';
  /** RFC 3339 with nanoseconds, when timestamps were asked for. */
  time?: string;
  text: string;
}

export interface SwarmLogOptions {
  follow?: boolean;
  /** Lines from the end, per task. */
  tail?: number;
  timestamps?: boolean;
  /** Unix seconds. */
  since?: number;
  signal?: AbortSignal;
}

interface Task { ID: string; Slot?: number; NodeID?: string }

/** Streams the logs of `services` (by id, name) to `onLine` until they end (with follow: until the signal or the services go). */
export async function streamServiceLogs(docker: Dockerode, services: ReadonlyArray<{ id: string; name: string; tty: boolean }>, o: SwarmLogOptions, onLine: (l: SwarmLogLine) => void): Promise<void> {
  const nodes = new Map((await docker.listNodes()).map((n) => [n.ID, n.Description?.Hostname ?? n.ID]));
  const tasks = new Map<string, Task>();
  const learnTasks = async () => {
    for (const t of await docker.listTasks({ filters: JSON.stringify({ service: services.map((s) => s.id) }) }) as Task[]) tasks.set(t.ID, t);
  };
  await learnTasks();
  await Promise.all(services.map(async (svc) => {
    const stream = await docker.getService(svc.id).logs({
      stdout: true, stderr: true, details: true, follow: !!o.follow, timestamps: !!o.timestamps,
      ...(o.tail !== undefined ? { tail: o.tail } : {}),
      ...(o.since !== undefined ? { since: o.since } : {}),
      ...(o.signal ? { abortSignal: o.signal } : {}),
    } as Record<string, unknown>) as unknown as Readable | Buffer;
    const source = async (detail: Record<string, string>): Promise<string> => {
      const id = detail['com.docker.swarm.task.id'] ?? '';
      // A task started after the list was read (a scale or an update during a follow).
      if (id && !tasks.has(id)) await learnTasks();
      const t = tasks.get(id);
      const node = nodes.get(detail['com.docker.swarm.node.id'] ?? t?.NodeID ?? '') ?? detail['com.docker.swarm.node.id'] ?? '';
      return `${svc.name}.${t?.Slot ?? id.slice(0, 12)}@${node}`;
    };
    await readFrames(stream, svc.tty, o.signal, async (kind, line) => {
      const parsed = parseLine(line, !!o.timestamps);
      onLine({ source: await source(parsed.details), stream: kind, ...(parsed.time ? { time: parsed.time } : {}), text: parsed.text });
    });
  }));
}

/**
 * The endpoint's multiplexed frames (8-byte header: stream, 0, 0, 0, length) cut into lines, or,
 * for a service with a TTY, its raw bytes (one stream); a Buffer (no follow) or a stream (follow)
 * alike. Lines are handed over in order.
 */
async function readFrames(input: Readable | Buffer, tty: boolean, signal: AbortSignal | undefined, onLine: (kind: 'stdout' | 'stderr', line: string) => Promise<void>): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  let chain = Promise.resolve();
  const feed = (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    if (tty) {
      const end = pending.lastIndexOf(0x0a);
      if (end < 0) return;
      const text = pending.subarray(0, end).toString('utf8');
      pending = pending.subarray(end + 1);
      for (const line of text.split('\n')) chain = chain.then(() => onLine('stdout', line.replace(/\r$/, '')));
      return;
    }
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      const kind = pending[0] === 2 ? 'stderr' : 'stdout';
      const text = pending.subarray(8, 8 + size).toString('utf8');
      pending = pending.subarray(8 + size);
      for (const line of text.replace(/\n$/, '').split('\n')) chain = chain.then(() => onLine(kind, line));
    }
  };
  if (Buffer.isBuffer(input)) {
    feed(input);
    return chain;
  }
  await new Promise<void>((resolve, reject) => {
    input.on('data', (c: Buffer) => feed(c));
    input.on('end', resolve);
    input.on('close', resolve);
    input.on('error', (err) => (signal?.aborted ? resolve() : reject(err)));
    signal?.addEventListener('abort', () => { input.destroy(); resolve(); }, { once: true });
  });
  return chain;
}

/** `[<timestamp> ]<k=v,k=v> <text>`: the daemon writes the timestamp first, then the details. */
export function parseLine(line: string, timestamps: boolean): { time?: string; details: Record<string, string>; text: string } {
  let rest = line;
  let time: string | undefined;
  if (timestamps) {
    const sp = rest.indexOf(' ');
    time = sp < 0 ? rest : rest.slice(0, sp);
    rest = sp < 0 ? '' : rest.slice(sp + 1);
  }
  const details: Record<string, string> = {};
  const sp = rest.indexOf(' ');
  const head = sp < 0 ? rest : rest.slice(0, sp);
  if (/^[\w.-]+=/.test(head)) {
    for (const pair of head.split(',')) {
      const eq = pair.indexOf('=');
      if (eq > 0) details[decodeURIComponent(pair.slice(0, eq))] = decodeURIComponent(pair.slice(eq + 1));
    }
    rest = sp < 0 ? '' : rest.slice(sp + 1);
  }
  return { ...(time ? { time } : {}), details, text: rest };
}
