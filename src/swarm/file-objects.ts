import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type Dockerode from 'dockerode';
import type { Project } from '../project/types.js';
import { UserError } from '../util/errors.js';
import { objectKey, STACK_NAMESPACE, type FileObjectKind, type FileObjectRef } from './spec.js';

/**
 * The project's configs and secrets as Swarm objects. A Swarm config or
 * secret cannot change once created, so each is named after its content
 * (`<name>-<10 hex of its sha256>`): changed content is a new object, the
 * services that use it are updated to it (a rolling update, as for any change
 * of their spec), and the object it replaced is removed once no service
 * refers to it. An unchanged one keeps its name, and `up` changes nothing.
 * External ones are used by their name, as they are.
 */

export interface StackFileObject {
  kind: FileObjectKind;
  /** The key in the file's top-level `configs:` / `secrets:`. */
  key: string;
  /** Its name on the swarm. */
  name: string;
  external: boolean;
  /** The content (not for external ones). */
  data?: Buffer;
  labels: Record<string, string>;
}

/** The configs and secrets the services use, with their content read (file, environment variable, inline). */
export function stackFileObjects(project: Project): StackFileObject[] {
  const out = new Map<string, StackFileObject>();
  for (const svc of Object.values(project.services)) {
    for (const [kind, refs] of [['config', svc.configs], ['secret', svc.secrets]] as const) {
      for (const ref of refs) {
        const id = objectKey(kind, ref.source);
        if (out.has(id)) continue;
        const def = (kind === 'config' ? project.configs : project.secrets)[ref.source];
        if (!def) throw new UserError(`service "${svc.name}" uses ${kind} "${ref.source}", which the file does not define`, 1, `define it under the top-level ${kind}s:`);
        if (def.external) {
          out.set(id, { kind, key: ref.source, name: def.name, external: true, labels: {} });
          continue;
        }
        const data = content(project, kind, ref.source, def);
        const digest = createHash('sha256').update(data).digest('hex').slice(0, 10);
        out.set(id, { kind, key: ref.source, name: `${def.name}-${digest}`, external: false, data, labels: { ...def.labels, [STACK_NAMESPACE]: project.name } });
      }
    }
  }
  return [...out.values()];
}

function content(project: Project, kind: FileObjectKind, key: string, def: Project['secrets'][string]): Buffer {
  if (def.file !== undefined) {
    try {
      return readFileSync(def.file);
    } catch (err) {
      throw new UserError(`${kind} "${key}": cannot read its file ${def.file}: ${(err as Error).message}`, 1, 'create the file, or fix the path in file:');
    }
  }
  if (def.environment !== undefined) {
    const value = project.environment[def.environment];
    if (value === undefined) throw new UserError(`${kind} "${key}" takes its content from the variable ${def.environment}, which is not set`, 1, `set ${def.environment} in the environment or the .env file`);
    return Buffer.from(value);
  }
  if (def.content !== undefined) return Buffer.from(def.content);
  throw new UserError(`${kind} "${key}" has no content: give it file:, environment:${kind === 'config' ? ' or content:' : ''}`, 1, 'or mark it external: true if it exists on the swarm');
}

/** Creates the objects the swarm lacks (by name); external ones must exist. Returns each one's reference by `objectKey`. */
export async function ensureFileObjects(docker: Dockerode, objects: readonly StackFileObject[], o: { dryRun?: boolean } = {}): Promise<Map<string, FileObjectRef>> {
  const [configs, secrets] = await Promise.all([docker.listConfigs(), docker.listSecrets()]);
  const have = (kind: FileObjectKind) => new Map((kind === 'config' ? configs : secrets).map((c) => [c.Spec?.Name ?? '', c.ID]));
  const existing = { config: have('config'), secret: have('secret') };
  const refs = new Map<string, FileObjectRef>();
  for (const obj of objects) {
    let id = existing[obj.kind].get(obj.name);
    if (!id && obj.external) {
      throw new UserError(`${obj.kind} "${obj.name}" is external and does not exist on the swarm`, 1, `create it first: docker ${obj.kind} create ${obj.name} FILE`);
    }
    if (!id && !o.dryRun) {
      const spec = { Name: obj.name, Labels: obj.labels, Data: obj.data!.toString('base64') };
      id = ((obj.kind === 'config' ? await docker.createConfig(spec) : await docker.createSecret(spec)) as { id: string }).id;
    }
    refs.set(objectKey(obj.kind, obj.key), { id: id ?? `(${obj.name})`, name: obj.name });
  }
  return refs;
}

/** Removes the stack's configs and secrets (by its namespace label) except `keep` (IDs); one still in use stays. */
export async function removeFileObjects(docker: Dockerode, namespace: string, keep: ReadonlySet<string>): Promise<string[]> {
  const filters = JSON.stringify({ label: [`${STACK_NAMESPACE}=${namespace}`] });
  const [configs, secrets] = await Promise.all([docker.listConfigs({ filters }), docker.listSecrets({ filters })]);
  const removed: string[] = [];
  const remove = async (kind: FileObjectKind, id: string, name: string) => {
    if (keep.has(id)) return;
    try {
      await (kind === 'config' ? docker.getConfig(id) : docker.getSecret(id)).remove();
      removed.push(`${kind} ${name}`);
    } catch (err) {
      // Still named by a service (its previous spec, kept for a rollback): down removes it.
      if (!/in use/i.test(String((err as Error).message)) && (err as { statusCode?: number }).statusCode !== 404) throw err;
    }
  };
  await Promise.all([
    ...configs.map((c) => remove('config', c.ID, c.Spec?.Name ?? c.ID)),
    ...secrets.map((s) => remove('secret', s.ID, s.Spec?.Name ?? s.ID)),
  ]);
  return removed.sort();
}
