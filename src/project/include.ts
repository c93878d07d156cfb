import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Diagnostics } from './diagnostics.js';
import { mergeNodes } from './merge.js';
import { getEntry, isMap, isScalar, isSeq, stringValue, type MapNode, type Node, type Src } from './tree.js';

/**
 * Phase 7: `include`. Each included project is loaded on its own, with its
 * own project directory (the directory of its first file unless
 * `project_directory` says otherwise) and its own `.env` (or `env_file`),
 * which adds to, but never overrides, the including project's environment.
 * Its resources are then copied in; where the including file defines the
 * same resource, the local definition is merged over the included one
 * (compose-go's current rule).
 */

export interface IncludeRequest {
  files: string[];
  projectDirectory: string;
  envFiles: string[];
  at: Src;
}

export interface IncludeLoader {
  /** Loads an included project to one merged tree, or undefined after reporting why. */
  loadIncluded(req: IncludeRequest): MapNode | undefined;
  diags: Diagnostics;
}

const RESOURCES = ['services', 'volumes', 'networks', 'secrets', 'configs', 'models'];

export function applyInclude(doc: MapNode, loader: IncludeLoader): void {
  const include = doc.entries.get('include');
  if (!include) return;
  doc.entries.delete('include');
  if (!isSeq(include.value)) {
    loader.diags.error(include.value.src, 'include must be a list of files or of {path, env_file, project_directory} mappings');
    return;
  }
  for (const item of include.value.items) {
    const req = parseInclude(item, loader.diags);
    if (!req) continue;
    const included = loader.loadIncluded(req);
    if (included) importResources(included, doc, loader.diags);
  }
}

function parseInclude(item: Node, diags: Diagnostics): IncludeRequest | undefined {
  const base = item.src.baseDir;
  const abs = (p: string, from = base) => (isAbsolute(p) ? p : resolve(from, p));
  let paths: string[];
  let envFiles: string[] | undefined;
  let projectDirectory: string | undefined;
  const s = stringValue(item);
  if (s !== undefined) {
    paths = [s];
  } else if (isMap(item)) {
    const p = stringList(getEntry(item, 'path'));
    if (!p || p.length === 0) {
      diags.error(item.src, 'an include entry needs a `path` (a file or a list of files)');
      return undefined;
    }
    paths = p;
    const e = getEntry(item, 'env_file');
    if (e) envFiles = stringList(e);
    projectDirectory = stringValue(getEntry(item, 'project_directory'));
  } else {
    return undefined; // the schema reports the wrong type
  }
  const files = paths.map((p) => abs(p));
  for (const [i, f] of files.entries()) {
    if (!existsSync(f)) {
      diags.error(isMap(item) ? getEntry(item, 'path')!.src : item.src, `included file ${paths[i]} does not exist (looked for ${f})`);
      return undefined;
    }
  }
  const dir = projectDirectory !== undefined ? abs(projectDirectory) : dirname(files[0]!);
  let envs: string[];
  if (envFiles !== undefined) {
    envs = envFiles.filter((f) => f !== '/dev/null').map((f) => abs(f));
    for (const f of envs) {
      if (!existsSync(f) || statSync(f).isDirectory()) {
        diags.error(getEntry(item, 'env_file')!.src, `include env_file ${f} is not a file`);
        return undefined;
      }
    }
  } else {
    const dotEnv = resolve(dir, '.env');
    envs = existsSync(dotEnv) && statSync(dotEnv).isFile() ? [dotEnv] : [];
  }
  return { files, projectDirectory: dir, envFiles: envs, at: item.src };
}

function stringList(n: Node | undefined): string[] | undefined {
  if (n === undefined) return undefined;
  if (isScalar(n)) return typeof n.value === 'string' ? [n.value] : undefined;
  if (!isSeq(n)) return undefined;
  const out: string[] = [];
  for (const i of n.items) {
    const v = stringValue(i);
    if (v === undefined) return undefined;
    out.push(v);
  }
  return out;
}

function importResources(included: MapNode, doc: MapNode, diags: Diagnostics): void {
  for (const kind of RESOURCES) {
    const from = getEntry(included, kind);
    if (!isMap(from)) continue;
    let to = doc.entries.get(kind);
    if (!to || !isMap(to.value)) {
      to = { keySrc: included.entries.get(kind)!.keySrc, value: { kind: 'map', entries: new Map(), src: from.src } };
      doc.entries.set(kind, to);
    }
    const target = to.value as MapNode;
    for (const [name, e] of from.entries) {
      const local = target.entries.get(name);
      if (!local) {
        target.entries.set(name, e);
        continue;
      }
      target.entries.set(name, { keySrc: local.keySrc, value: mergeNodes(e.value, local.value, [kind, name], diags) });
    }
  }
}
