import { isAbsolute, resolve } from 'node:path';
import type { Diagnostics } from './diagnostics.js';
import { mergeNodes } from './merge.js';
import { cloneNode, getEntry, isMap, stringValue, type MapNode, type Node, type Src } from './tree.js';

/**
 * Phase 6: `extends`. A service starts as a copy of the service it extends
 * (in the same document, or in another file with `file:`), and its own
 * definition is merged over that copy with the override rules (so `!reset`
 * removes inherited attributes). Chains are followed; cycles are errors.
 * Relative paths in a base from another file stay relative to that file's
 * directory: its nodes carry that directory as their base.
 */

export interface ExtendsLoader {
  /** The services of a file loaded for `extends` (parsed, interpolated, documents merged), or undefined if it cannot be read. */
  servicesOf(file: string, at: Src): MapNode | undefined;
  diags: Diagnostics;
}

interface Frame {
  file: string;
  service: string;
}

export function applyExtends(doc: MapNode, file: string, loader: ExtendsLoader): void {
  const services = getEntry(doc, 'services');
  if (!isMap(services)) return;
  const done = new Set<string>();
  for (const name of [...services.entries.keys()]) resolveService(name, services, file, loader, [], done);
}

function resolveService(name: string, services: MapNode, file: string, loader: ExtendsLoader, stack: Frame[], done: Set<string>): Node | undefined {
  const entry = services.entries.get(name);
  if (!entry) return undefined;
  const service = entry.value;
  const doneKey = `${file}\0${name}`;
  if (!isMap(service) || done.has(doneKey)) return service;
  const ext = service.entries.get('extends');
  if (!ext) {
    done.add(doneKey);
    return service;
  }
  const ref = parseExtends(ext.value);
  if (!ref) return service; // malformed: the schema reports it
  if (stack.some((f) => f.file === file && f.service === name)) {
    const chain = [...stack, { file, service: name }];
    const start = chain.findIndex((f) => f.file === file && f.service === name);
    loader.diags.error(ext.keySrc, `extends cycle: ${chain.slice(start).map((f) => f.service).join(' -> ')}`);
    return undefined;
  }
  const frames = [...stack, { file, service: name }];
  let baseServices = services;
  let baseFile = file;
  if (ref.file !== undefined) {
    baseFile = isAbsolute(ref.file.value) ? ref.file.value : resolve(ref.file.at.baseDir, ref.file.value);
    const loaded = loader.servicesOf(baseFile, ref.file.at);
    if (!loaded) return undefined;
    baseServices = loaded;
  }
  if (!baseServices.entries.has(ref.service.value)) {
    const where = ref.file ? ` in ${ref.file.value}` : '';
    const known = [...baseServices.entries.keys()].filter((k) => k !== name);
    const hint = known.length ? ` (services${where}: ${known.join(', ')})` : '';
    loader.diags.error(ref.service.at, `service "${name}" extends "${ref.service.value}", which is not defined${where}${hint}`);
    return undefined;
  }
  const base = resolveService(ref.service.value, baseServices, baseFile, loader, frames, done);
  if (!isMap(base)) return service;
  const merged = mergeNodes(cloneNode(base), stripExtends(service), ['services', name], loader.diags);
  services.entries.set(name, { keySrc: entry.keySrc, value: merged });
  done.add(doneKey);
  return merged;
}

function stripExtends(service: MapNode): MapNode {
  const entries = new Map(service.entries);
  entries.delete('extends');
  return { ...service, entries };
}

interface ExtendsRef {
  service: { value: string; at: Src };
  file?: { value: string; at: Src };
}

function parseExtends(n: Node): ExtendsRef | undefined {
  const s = stringValue(n);
  if (s !== undefined) return { service: { value: s, at: n.src } };
  if (!isMap(n)) return undefined;
  const svc = n.entries.get('service')?.value;
  const svcName = stringValue(svc);
  if (svcName === undefined || !svc) return undefined;
  const f = n.entries.get('file')?.value;
  const fileName = stringValue(f);
  return { service: { value: svcName, at: svc.src }, ...(fileName !== undefined && f ? { file: { value: fileName, at: f.src } } : {}) };
}
