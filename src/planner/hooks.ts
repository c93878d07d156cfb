import { Writable } from 'node:stream';
import type { Engine, ExecRequest } from '../engine/types.js';
import type { Project, ServiceHook } from '../project/types.js';
import { UserError } from '../util/errors.js';
import { Label } from './labels.js';

/**
 * Compose's lifecycle hooks: `post_start` runs in a container right after it
 * started (the container counts as started only once they succeed), and
 * `pre_stop` right before it is stopped. Each is an exec with its own user,
 * privileges, working dir and environment; the first that exits non-zero
 * fails the start (or the stop) with Compose's sentence, "<container> hook
 * exited with status N", followed by what the hook printed.
 */
export interface ServiceHooks {
  postStart: Record<string, ExecRequest[]>;
  preStop: Record<string, ExecRequest[]>;
}

/** The hooks of the project's services by service name; undefined when no service has any. */
export function serviceHooks(project: Project | undefined): ServiceHooks | undefined {
  if (!project) return undefined;
  const hooks: ServiceHooks = { postStart: {}, preStop: {} };
  let any = false;
  for (const [name, s] of Object.entries(project.services)) {
    if (s.post_start.length) hooks.postStart[name] = s.post_start.map(execOf);
    if (s.pre_stop.length) hooks.preStop[name] = s.pre_stop.map(execOf);
    any ||= s.post_start.length > 0 || s.pre_stop.length > 0;
  }
  return any ? hooks : undefined;
}

/** A hook as the exec that runs it (also a develop.watch rule's `exec`). */
export function execOf(h: ServiceHook): ExecRequest {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(h.environment)) if (v !== null) env[k] = v;
  return {
    cmd: h.command ?? [],
    ...(Object.keys(env).length ? { env } : {}),
    ...(h.user ? { user: h.user } : {}),
    ...(h.working_dir ? { workingDir: h.working_dir } : {}),
    ...(h.privileged ? { privileged: true } : {}),
  };
}

/** Runs the container's hooks of one kind (those of its service), one after the other. */
export async function runHooks(engine: Engine, id: string, which: 'post_start' | 'pre_stop', hooks: ServiceHooks): Promise<void> {
  const byService = which === 'post_start' ? hooks.postStart : hooks.preStop;
  // No service has hooks of this kind: no inspect on every start (or stop) of the project.
  if (Object.keys(byService).length === 0) return;
  const c = await engine.containers.inspect(id);
  const list = c ? byService[c.labels[Label.service] ?? ''] : undefined;
  if (!c || !list?.length || c.state !== 'running') return;
  for (const spec of list) {
    const { exitCode, output } = await execCapturing(engine, id, spec);
    if (exitCode !== 0) {
      throw new UserError(`${c.name} hook exited with status ${exitCode}${output ? `: ${output}` : ''}`, 1, `fix the ${which} hook of service ${c.labels[Label.service]}`);
    }
  }
}

/** Runs a process in the container; its exit code and the last of what it printed (stdout and stderr), trimmed. */
export async function execCapturing(engine: Engine, id: string, spec: ExecRequest): Promise<{ exitCode: number; output: string }> {
  let output = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      output = (output + chunk.toString()).slice(-4000);
      done();
    },
  });
  const { exitCode } = await engine.containers.exec(id, spec, { stdout: sink, stderr: sink });
  return { exitCode, output: output.trim() };
}
