import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { displayPath, type Diagnostics } from './diagnostics.js';
import { readDotEnv, STDIN } from './discovery.js';
import { applyExtends } from './extends.js';
import { applyInclude, type IncludeRequest } from './include.js';
import { interpolateTree } from './interpolate.js';
import { mergeNodes, withoutTags } from './merge.js';
import { getEntry, isMap, mapNode, type MapNode } from './tree.js';
import { enforceUnicity } from './unicity.js';
import { parseYaml } from './yaml.js';
import type { ParsedTrees } from './parsed-trees.js';

/**
 * Phases 1 to 9 for a set of compose files, in Compose's order, per YAML
 * document: parse, interpolate, include, extends, merge over what came
 * before, enforce unicity. The result is one tree that still knows where
 * every value was written. Also loads the files that `extends: {file}` and
 * `include` name, with cycle detection.
 */
export class ModelLoader {
  private readonly parsed = new Map<string, { text?: string; docs: MapNode[]; handedOut: boolean }>();
  private readonly warnedUnset = new Set<string>();
  /** A file could not be read or parsed: the model is incomplete, later phases would only add noise. */
  incomplete = false;

  /**
   * `interpolate: false` (`config --no-interpolate`) leaves every `${VAR}` as written; `trees`: where
   * the trees of files parsed before are remembered (parsed-trees.ts).
   */
  constructor(
    private readonly diags: Diagnostics,
    private readonly options: { interpolate?: boolean; trees?: ParsedTrees } = {},
  ) {}

  private interpolate(doc: MapNode, env: Record<string, string>): void {
    if (this.options.interpolate === false) return;
    interpolateTree(doc, { lookup: (k) => env[k], diags: this.diags, warnedUnset: this.warnedUnset });
  }

  /**
   * Parsed documents of a file, for a phase that will change them: the
   * first caller gets the parse itself, later ones a fresh parse of the same
   * text (rare: a file both loaded and extended from).
   */
  parse(file: string, baseDir: string): MapNode[] {
    const entry = this.read(file, baseDir);
    if (!entry.handedOut) {
      entry.handedOut = true;
      return entry.docs;
    }
    return entry.text === undefined ? [] : this.parseText(entry.text, file, baseDir);
  }

  /** parseYaml, or the trees a parse of the same text gave before (remembered only when it reported nothing). */
  private parseText(text: string, file: string, baseDir: string): MapNode[] {
    const trees = file === STDIN ? undefined : this.options.trees;
    const key = trees?.keyOf(text, file, baseDir);
    const known = key === undefined ? undefined : trees!.get(key);
    if (known) return known;
    const before = this.diags.errors.length;
    const docs = parseYaml(text, file, baseDir, this.diags);
    if (key !== undefined && this.diags.errors.length === before && docs.length > 0) trees!.remember(key, docs);
    return docs;
  }

  /** The parsed documents, not to be changed, before anyone changed them. */
  peek(file: string, baseDir: string): readonly MapNode[] {
    const entry = this.read(file, baseDir);
    return entry.handedOut ? this.parse(file, baseDir) : entry.docs;
  }

  private read(file: string, baseDir: string): { text?: string; docs: MapNode[]; handedOut: boolean } {
    const key = `${baseDir}\0${file}`;
    let entry = this.parsed.get(key);
    if (!entry) {
      let text: string | undefined;
      try {
        text = readFileSync(file === STDIN ? 0 : file, 'utf8');
      } catch (err) {
        this.diags.error({ file, line: 0, col: 0 }, `cannot read the file: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (err as Error).message}`);
        this.incomplete = true;
      }
      let docs: MapNode[] = [];
      if (text !== undefined) {
        const before = this.diags.errors.length;
        docs = this.parseText(text, file, baseDir);
        if (this.diags.errors.length > before) this.incomplete = true;
        else if (docs.length === 0) this.diags.error({ file, line: 1, col: 1 }, 'the compose file is empty');
      }
      entry = { ...(text !== undefined ? { text } : {}), docs, handedOut: false };
      this.parsed.set(key, entry);
    }
    return entry;
  }

  /** Loads and merges `files` as one project whose relative paths start at `workingDir`. */
  load(files: string[], workingDir: string, env: Record<string, string>, includeStack: string[] = []): MapNode | undefined {
    let model: MapNode | undefined;
    for (const file of files) {
      for (const doc of this.parse(file, workingDir)) {
        this.dropVersion(doc);
        this.interpolate(doc, env);
        applyInclude(doc, {
          diags: this.diags,
          loadIncluded: (req) => this.loadIncluded(req, env, [...includeStack, file]),
        });
        applyExtends(doc, file, {
          diags: this.diags,
          servicesOf: (f, at) => this.servicesForExtends(f, at, env),
        });
        model = enforceUnicity(model ? mergeNodes(model, doc, [], this.diags) : withoutTags(doc)) as MapNode;
      }
    }
    return model;
  }

  private dropVersion(doc: MapNode): void {
    const v = doc.entries.get('version');
    if (!v) return;
    this.diags.warning(v.keySrc, 'the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion');
    doc.entries.delete('version');
  }

  private loadIncluded(req: IncludeRequest, parentEnv: Record<string, string>, stack: string[]): MapNode | undefined {
    const first = req.files[0]!;
    if (stack.includes(first)) {
      this.diags.error(req.at, `include cycle: ${[...stack.slice(stack.indexOf(first)), first].map(displayPath).join(' -> ')}`);
      return undefined;
    }
    // The included project's env files add to the environment; they never override it.
    const env = { ...parentEnv };
    for (const f of req.envFiles) {
      const values = readDotEnv(readFileSync(f, 'utf8'), f, (k) => env[k]);
      for (const [k, v] of Object.entries(values)) if (!(k in env)) env[k] = v;
    }
    return this.load(req.files, req.projectDirectory, env, stack);
  }

  private servicesForExtends(file: string, at: { file: string; line: number; col: number }, env: Record<string, string>): MapNode | undefined {
    if (!existsSync(file)) {
      this.diags.error(at, `extends.file ${file} does not exist`);
      return undefined;
    }
    let merged: MapNode | undefined;
    for (const doc of this.parse(file, dirname(file))) {
      this.interpolate(doc, env);
      this.dropVersion(doc);
      merged = merged ? (mergeNodes(merged, doc, [], this.diags) as MapNode) : doc;
    }
    const services = getEntry(merged, 'services');
    if (!isMap(services)) {
      this.diags.error(at, `${file}, named by extends.file, has no services`);
      return merged ? mapNode(merged.src) : undefined;
    }
    return services;
  }
}
