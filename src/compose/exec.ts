import type { Engine, ExecRequest, ProcessIO } from '../engine/types.js';
import { serviceContainer } from './containers.js';
import type { ProjectRef } from './project.js';

export interface ExecOptions extends ExecRequest {
  service: string;
  /** The replica, from 1 (default 1). */
  index?: number;
  /** Start it and return at once. */
  detach?: boolean;
  /** The process's streams (attached exec); unused with detach. */
  io?: ProcessIO;
  dryRun?: boolean;
}

export interface ExecResult {
  container: { id: string; name: string };
  /** The process's exit code; 0 when detached or under dryRun. */
  exitCode: number;
}

/** `exec`: a command in a running container of a service. */
export async function exec(engine: Engine, project: ProjectRef, o: ExecOptions): Promise<ExecResult> {
  const c = await serviceContainer(engine, project.name, o.service, o.index ?? 1);
  const container = { id: c.id, name: c.name };
  const request: ExecRequest = { cmd: o.cmd, env: o.env, user: o.user, workingDir: o.workingDir, privileged: o.privileged, tty: o.tty };
  if (o.dryRun) return { container, exitCode: 0 };
  if (o.detach || !o.io) {
    await engine.containers.execDetached(c.id, request);
    return { container, exitCode: 0 };
  }
  const { exitCode } = await engine.containers.exec(c.id, request, o.io);
  return { container, exitCode };
}
