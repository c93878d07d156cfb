import { DockerfileError, type Position } from './errors.js';
import { parseDockerfile, parseJsonArray, splitRawWords, type Dockerfile, type Flag, type Node } from './parser.js';

/**
 * From syntax to instructions: each node checked against what its
 * instruction takes (arguments, flags, forms), and grouped into build
 * stages. Everything a Dockerfile can get wrong without knowing variable
 * values or files is found here, before anything is built. Values stay raw
 * (quotes and `$VARS` in place): the builder expands them in each step's
 * environment.
 */

export type CommandForm = { exec: string[] } | { shell: string };

export interface DockerfileHealthcheck {
  /** ["NONE"], ["CMD", ...] or ["CMD-SHELL", cmd] */
  test: string[];
  /** Nanoseconds, as Docker stores them. */
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

interface Base {
  pos: Position;
  node: Node;
}

export type Instruction = Base & (
  | { kind: 'ARG'; args: { name: string; value?: string }[] }
  | { kind: 'ENV' | 'LABEL'; pairs: [string, string][] }
  | { kind: 'RUN'; cmd: CommandForm; network?: string }
  | { kind: 'CMD' | 'ENTRYPOINT'; cmd: CommandForm }
  | { kind: 'COPY' | 'ADD'; sources: string[]; dest: string; from?: string; chown?: string; chmod?: string; checksum?: string }
  | { kind: 'WORKDIR'; path: string }
  | { kind: 'USER'; user: string }
  | { kind: 'EXPOSE'; ports: string[] }
  | { kind: 'VOLUME'; paths: string[] }
  | { kind: 'STOPSIGNAL'; signal: string }
  | { kind: 'HEALTHCHECK'; health: DockerfileHealthcheck }
  | { kind: 'SHELL'; shell: string[] }
  | { kind: 'ONBUILD'; trigger: string }
  | { kind: 'MAINTAINER'; name: string }
);

export type InstructionKind = Instruction['kind'];

export interface Stage {
  index: number;
  /** Lower-cased `AS` name. */
  name?: string;
  /** The FROM image as written (may hold $ARGs of the global scope). */
  base: string;
  platform?: string;
  pos: Position;
  node: Node;
  instructions: Instruction[];
}

export interface BuildFile {
  file: string;
  escape: '\\' | '`';
  directives: Record<string, string>;
  /** ARGs before the first FROM: usable in FROM lines, and inside a stage that declares them again. */
  globalArgs: Extract<Instruction, { kind: 'ARG' }>[];
  stages: Stage[];
  warnings: string[];
}

const FLAGS: Record<string, string[]> = {
  FROM: ['platform'],
  RUN: ['network'],
  COPY: ['from', 'chown', 'chmod', 'link'],
  ADD: ['chown', 'chmod', 'link', 'checksum'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};
/** BuildKit flags that need a BuildKit daemon: named in the error, so the user knows it is not a typo. */
const BUILDKIT_ONLY_FLAGS = new Set(['mount', 'security', 'parents', 'exclude', 'keep-git-dir']);
const KNOWN = ['FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL'];
const STAGE_NAME_RE = /^[a-z][a-z0-9_.-]*$/;
const ARG_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function loadBuildFile(text: string, file = 'Dockerfile'): BuildFile {
  const df = parseDockerfile(text, file);
  return compile(df);
}

export function compile(df: Dockerfile): BuildFile {
  const { file, nodes } = df;
  if (nodes.length === 0) throw new DockerfileError(file, 1, 'the Dockerfile has no instructions', 'A Dockerfile starts with FROM (after optional ARGs)');
  const globalArgs: BuildFile['globalArgs'] = [];
  const stages: Stage[] = [];
  for (const node of nodes) {
    const pos = { file, line: node.line };
    if (node.instruction === 'FROM') {
      stages.push(fromStage(node, pos, stages));
      continue;
    }
    const instr = toInstruction(node, pos, df.escape);
    const current = stages[stages.length - 1];
    if (!current) {
      if (instr.kind !== 'ARG') throw new DockerfileError(file, node.line, `no build stage in current context: ${node.instruction} comes before the first FROM`, 'Only ARG may come before FROM');
      globalArgs.push(instr);
      continue;
    }
    current.instructions.push(instr);
  }
  if (stages.length === 0) throw new DockerfileError(file, nodes[nodes.length - 1]!.line, 'the Dockerfile has no FROM', 'Start the build stage with FROM IMAGE (or FROM scratch)');
  return { file, escape: df.escape, directives: df.directives, globalArgs, stages, warnings: df.warnings };
}

function fromStage(node: Node, pos: Position, stages: Stage[]): Stage {
  const err = (p: string, hint?: string) => new DockerfileError(pos.file, pos.line, p, hint);
  const flags = checkFlags(node, pos);
  const words = safeSplit(node.args, pos, '\\');
  if (words.length !== 1 && !(words.length === 3 && words[1]!.toLowerCase() === 'as')) {
    throw err(`FROM requires either one argument, or three: FROM <source> [AS] <name> (got ${JSON.stringify(node.args)})`);
  }
  const stage: Stage = { index: stages.length, base: words[0]!, pos, node, instructions: [] };
  if (words.length === 3) {
    const name = words[2]!.toLowerCase();
    if (!STAGE_NAME_RE.test(name)) throw err(`invalid name for build stage: "${words[2]}", name can't start with a number or contain symbols`);
    if (stages.some((s) => s.name === name)) throw err(`duplicate stage name "${name}"`, 'Give each stage its own name');
    stage.name = name;
  }
  if (flags.platform !== undefined) stage.platform = flags.platform;
  return stage;
}

/** Flags by name, refusing unknown ones and repeats. */
function checkFlags(node: Node, pos: Position): Record<string, string | undefined> {
  const allowed = FLAGS[node.instruction] ?? [];
  const out: Record<string, string | undefined> = {};
  for (const f of node.flags) {
    if (!allowed.includes(f.name)) {
      const why = BUILDKIT_ONLY_FLAGS.has(f.name) ? ` (a BuildKit feature this builder does not have)` : '';
      throw new DockerfileError(pos.file, pos.line, `unknown flag: --${f.name} for ${node.instruction}${why}`,
        allowed.length ? `${node.instruction} takes ${allowed.map((a) => `--${a}`).join(', ')}` : `${node.instruction} takes no flags`);
    }
    if (f.name in out) throw new DockerfileError(pos.file, pos.line, `--${f.name} given twice`);
    out[f.name] = flagValue(f, node, pos);
  }
  return out;
}

function flagValue(f: Flag, node: Node, pos: Position): string | undefined {
  const bool = f.name === 'link';
  if (bool) {
    if (f.value !== undefined && !/^(true|false)$/i.test(f.value)) throw new DockerfileError(pos.file, pos.line, `--${f.name} takes true or false, not "${f.value}"`);
    return f.value ?? 'true';
  }
  if (f.value === undefined || f.value === '') throw new DockerfileError(pos.file, pos.line, `--${f.name} of ${node.instruction} needs a value (--${f.name}=VALUE)`);
  return f.value;
}

function safeSplit(text: string, pos: Position, escape: string): string[] {
  try {
    return splitRawWords(text, escape);
  } catch (err) {
    throw new DockerfileError(pos.file, pos.line, (err as Error).message);
  }
}

function toInstruction(node: Node, pos: Position, escape: string): Instruction {
  const err = (p: string, hint?: string) => new DockerfileError(pos.file, pos.line, p, hint);
  const kind = node.instruction;
  if (!KNOWN.includes(kind)) throw err(`unknown instruction: ${kind}`, `Instructions are ${KNOWN.join(', ')}`);
  const flags = checkFlags(node, pos);
  const base = { pos, node };
  const args = node.args;
  const needArgs = () => {
    if (!args) throw err(`${kind} requires at least one argument`);
  };
  switch (kind) {
    case 'ARG': {
      needArgs();
      const list = safeSplit(args, pos, escape).map((w) => {
        const eq = w.indexOf('=');
        const name = eq < 0 ? w : w.slice(0, eq);
        if (!ARG_NAME_RE.test(name)) throw err(`invalid ARG name "${name}"`, 'ARG names are letters, digits and _, not starting with a digit');
        return eq < 0 ? { name } : { name, value: w.slice(eq + 1) };
      });
      return { ...base, kind, args: list };
    }
    case 'ENV':
    case 'LABEL': {
      needArgs();
      return { ...base, kind, pairs: nameValues(kind, args, pos, escape) };
    }
    case 'RUN':
    case 'CMD':
    case 'ENTRYPOINT': {
      if (!args && kind === 'RUN') throw err('RUN requires at least one argument');
      if (!args) throw err(`${kind} requires at least one argument`, `e.g. ${kind} ["executable", "param"]`);
      const cmd: CommandForm = node.json ? { exec: node.json } : { shell: args };
      if (kind === 'RUN') {
        if (node.json && node.json.length === 0) throw err('RUN requires at least one argument');
        return { ...base, kind, cmd, ...(flags.network !== undefined ? { network: checkNetwork(flags.network, pos) } : {}) };
      }
      return { ...base, kind, cmd };
    }
    case 'COPY':
    case 'ADD': {
      const words = node.json ?? safeSplit(args, pos, escape);
      if (words.length < 2) {
        throw err(`${kind} requires at least two arguments, but only ${words.length === 0 ? 'none was' : 'one was'} provided. Destination could not be determined.`, `${kind} SRC... DEST`);
      }
      const out: Instruction = { ...base, kind, sources: words.slice(0, -1), dest: words[words.length - 1]! };
      if (kind === 'COPY' && flags.from !== undefined) out.from = flags.from;
      if (flags.chown !== undefined) out.chown = flags.chown;
      if (flags.chmod !== undefined) out.chmod = flags.chmod;
      if (kind === 'ADD' && flags.checksum !== undefined) out.checksum = flags.checksum;
      return out;
    }
    case 'WORKDIR':
      needArgs();
      return { ...base, kind, path: args };
    case 'USER': {
      needArgs();
      if (safeSplit(args, pos, escape).length !== 1) throw err('USER requires exactly one argument', 'USER name[:group] or uid[:gid]');
      return { ...base, kind, user: args };
    }
    case 'STOPSIGNAL': {
      needArgs();
      if (safeSplit(args, pos, escape).length !== 1) throw err('STOPSIGNAL requires exactly one argument');
      return { ...base, kind, signal: args };
    }
    case 'MAINTAINER':
      needArgs();
      return { ...base, kind, name: args };
    case 'EXPOSE':
      needArgs();
      return { ...base, kind, ports: safeSplit(args, pos, escape) };
    case 'VOLUME': {
      needArgs();
      const paths = node.json ?? safeSplit(args, pos, escape);
      if (paths.length === 0) throw err('VOLUME requires at least one argument');
      if (paths.some((p) => p.trim() === '')) throw err('VOLUME specified can not be an empty string');
      return { ...base, kind, paths };
    }
    case 'SHELL': {
      const shell = node.json;
      if (!shell) throw err('SHELL requires the arguments to be in JSON form', 'e.g. SHELL ["/bin/bash", "-c"]');
      if (shell.length === 0) throw err('SHELL requires at least one argument');
      return { ...base, kind, shell };
    }
    case 'HEALTHCHECK':
      return { ...base, kind, health: healthcheck(node, flags, pos) };
    case 'ONBUILD': {
      needArgs();
      const m = /^(\S+)/.exec(args)!;
      const trigger = m[1]!.toUpperCase();
      if (trigger === 'ONBUILD') throw err('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'FROM' || trigger === 'MAINTAINER') throw err(`${trigger} isn't allowed as an ONBUILD trigger`);
      // The trigger must itself be a valid instruction: check it now, not in some later build.
      toInstruction({ ...parseDockerfile(args, pos.file).nodes[0]!, line: node.line, endLine: node.endLine }, pos, escape);
      return { ...base, kind, trigger: args };
    }
    default:
      throw err(`unknown instruction: ${kind}`);
  }
}

/** An ONBUILD trigger of a base image, as the instruction it stands for (errors name the FROM line). */
export function parseTrigger(text: string, pos: Position, escape: '\\' | '`'): Instruction {
  const node = parseDockerfile(text, pos.file).nodes[0];
  if (!node) throw new DockerfileError(pos.file, pos.line, `empty ONBUILD trigger in the base image`);
  return toInstruction({ ...node, line: pos.line, endLine: pos.line }, pos, escape);
}

function checkNetwork(value: string, pos: Position): string {
  if (!['default', 'none', 'host'].includes(value)) throw new DockerfileError(pos.file, pos.line, `unsupported --network=${value} for RUN`, 'Use default, none or host');
  return value;
}

/** `K=V K2="v 2"`, or the legacy one-pair form `K the rest is the value`. */
function nameValues(kind: 'ENV' | 'LABEL', args: string, pos: Position, escape: string): [string, string][] {
  const words = safeSplit(args, pos, escape);
  const err = (p: string, hint?: string) => new DockerfileError(pos.file, pos.line, p, hint);
  if (!words[0]!.includes('=')) {
    // Legacy form: the first word is the name, everything after the first whitespace the value.
    const m = /^(\S+)\s+([\s\S]+)$/.exec(args);
    if (!m) throw err(`${kind} ${words[0]} has no value: ${kind} must have two arguments`, `${kind} NAME=VALUE`);
    return [[m[1]!, m[2]!.trim()]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) throw err(`Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    if (eq === 0) throw err(`${kind} names can not be blank`);
    return [w.slice(0, eq), w.slice(eq + 1)] as [string, string];
  });
}

function healthcheck(node: Node, flags: Record<string, string | undefined>, pos: Position): DockerfileHealthcheck {
  const err = (p: string, hint?: string) => new DockerfileError(pos.file, pos.line, p, hint);
  const m = /^(\S+)\s*([\s\S]*)$/.exec(node.args);
  if (!m) throw err('HEALTHCHECK requires an argument: NONE, or CMD and a command');
  const type = m[1]!.toUpperCase();
  const rest = m[2]!.trim();
  if (type === 'NONE') {
    if (rest || node.flags.length) throw err('HEALTHCHECK NONE takes no arguments');
    return { test: ['NONE'] };
  }
  if (type !== 'CMD') throw err(`Unknown type "${m[1]}" in HEALTHCHECK (try CMD)`);
  if (!rest) throw err('Missing command after HEALTHCHECK CMD');
  const json = parseJsonArray(rest);
  const spec: DockerfileHealthcheck = { test: json ? ['CMD', ...json] : ['CMD-SHELL', rest] };
  const dur = (name: string): number | undefined => {
    const v = flags[name];
    if (v === undefined) return undefined;
    const ns = parseDuration(v);
    if (ns === undefined) throw err(`--${name}=${v} is not a duration`, 'Use e.g. 30s, 1m30s, 500ms');
    if (ns !== 0 && ns < 1_000_000) throw err(`--${name} cannot be less than 1ms`);
    return ns;
  };
  const interval = dur('interval');
  const timeout = dur('timeout');
  const startPeriod = dur('start-period');
  const startInterval = dur('start-interval');
  if (interval !== undefined) spec.interval = interval;
  if (timeout !== undefined) spec.timeout = timeout;
  if (startPeriod !== undefined) spec.startPeriod = startPeriod;
  if (startInterval !== undefined) spec.startInterval = startInterval;
  if (flags.retries !== undefined) {
    if (!/^\d+$/.test(flags.retries)) throw err(`--retries=${flags.retries} is not a whole number`);
    const n = Number(flags.retries);
    if (n < 1) throw err('--retries must be at least 1');
    spec.retries = n;
  }
  return spec;
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds ("1m30s", "1.5h", "0"); undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos !== text.length || pos === 0) return undefined;
  return Math.round(total);
}
