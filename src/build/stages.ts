import { UserError, errorMessage } from '../util/errors.js';
import { ociArchitecture } from '../engine/native/image/index.js';
import { errorAt } from './dockerfile/errors.js';
import { expandWord } from './dockerfile/expand.js';
import type { BuildFile, Stage } from './dockerfile/instructions.js';

/**
 * Which stages a build runs and with which global ARGs: the ARGs before
 * the first FROM (--build-arg values over their defaults, plus BuildKit's
 * automatic platform ARGs), the target stage (--target, else the last), and
 * the stages it needs through `FROM <stage>` and `COPY --from=<stage>`, in
 * file order. Stages nothing needs are not built (as BuildKit does).
 */

export function platformArgs(): Map<string, string> {
  const arch = ociArchitecture();
  const variant = arch === 'arm' ? 'v7' : '';
  const platform = `linux/${arch}${variant ? `/${variant}` : ''}`;
  return new Map([
    ['TARGETPLATFORM', platform], ['TARGETOS', 'linux'], ['TARGETARCH', arch], ['TARGETVARIANT', variant],
    ['BUILDPLATFORM', platform], ['BUILDOS', 'linux'], ['BUILDARCH', arch], ['BUILDVARIANT', variant],
  ]);
}

export function globalArgValues(file: BuildFile, buildArgs: Record<string, string>, used: Set<string>): Map<string, string | undefined> {
  const values = new Map<string, string | undefined>(platformArgs());
  for (const instr of file.globalArgs) {
    for (const a of instr.args) {
      let value: string | undefined;
      if (Object.hasOwn(buildArgs, a.name)) {
        value = buildArgs[a.name];
        used.add(a.name);
      } else if (a.value !== undefined) {
        try {
          value = expandWord(a.value, definedOnly(values), file.escape);
        } catch (err) {
          throw errorAt(instr.pos, errorMessage(err));
        }
      }
      values.set(a.name, value);
    }
  }
  return values;
}

export function definedOnly(m: Map<string, string | undefined>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of m) if (v !== undefined) out.set(k, v);
  return out;
}

/** The FROM image with global ARGs expanded (lower-cased when it names a stage). */
export function baseOf(file: BuildFile, stage: Stage, globals: Map<string, string | undefined>): string {
  try {
    return expandWord(stage.base, definedOnly(globals), file.escape);
  } catch (err) {
    throw errorAt(stage.pos, errorMessage(err));
  }
}

export function targetStage(file: BuildFile, target: string | undefined): Stage {
  if (target === undefined || target === '') return file.stages[file.stages.length - 1]!;
  const t = target.toLowerCase();
  const found = file.stages.find((s) => s.name === t) ?? (/^\d+$/.test(t) ? file.stages[Number(t)] : undefined);
  if (!found) {
    const names = file.stages.map((s) => s.name ?? String(s.index)).join(', ');
    throw new UserError(`target stage "${target}" could not be found in ${file.file}`, 1, `Its stages are: ${names}`);
  }
  return found;
}

/** The stages the target needs, the target last, in file order. */
export function neededStages(file: BuildFile, target: Stage, globals: Map<string, string | undefined>): Stage[] {
  const need = new Set<number>();
  const visit = (stage: Stage) => {
    if (need.has(stage.index)) return;
    need.add(stage.index);
    const earlier = file.stages.slice(0, stage.index);
    const byRef = (ref: string): Stage | undefined => {
      const r = ref.toLowerCase();
      return earlier.find((s) => s.name === r) ?? (/^\d+$/.test(r) ? earlier[Number(r)] : undefined);
    };
    const base = byRef(baseOf(file, stage, globals));
    if (base) visit(base);
    for (const instr of stage.instructions) {
      if (instr.kind !== 'COPY' || instr.from === undefined) continue;
      // A --from with variables is only known when the step runs: every earlier stage may be it.
      if (instr.from.includes('$')) earlier.forEach(visit);
      else {
        const s = byRef(instr.from);
        if (s) visit(s);
      }
    }
  };
  visit(target);
  return file.stages.filter((s) => need.has(s.index));
}
