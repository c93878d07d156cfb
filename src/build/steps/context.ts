import { errorMessage } from '../../util/errors.js';
import type { BuildContext } from '../context/context.js';
import { DockerfileError, errorAt, type Position } from '../dockerfile/errors.js';
import { expandWord, expandWords, type Env } from '../dockerfile/expand.js';
import type { BuildFile } from '../dockerfile/instructions.js';
import type { StageState } from '../state.js';
import type { BuildDeps, BuildOptions } from '../types.js';
import type { ContainerRuntime } from '../../engine/native/runtime/index.js';

/** What expanding a word needs: the Dockerfile's escape character. */
export interface ExpandContext {
  file: { escape: '\\' | '`' };
}

/** What config-only instructions need (also outside a build: `commit --change`). */
export interface ConfigContext extends ExpandContext {
  buildArgs: Record<string, string>;
  usedArgs: Set<string>;
  globalArgs: Map<string, string | undefined>;
}

/** What every step planner gets: the build's inputs, the other stages, and ways to report and to make images. */
export interface StepContext {
  deps: BuildDeps;
  opts: BuildOptions;
  file: BuildFile;
  context: BuildContext;
  /** Completed stages by index and by name (COPY --from, FROM <stage>). */
  stageByName: Map<string, StageState>;
  stageByIndex: Map<number, StageState>;
  /** --build-arg values, and the names a stage consumed. */
  buildArgs: Record<string, string>;
  usedArgs: Set<string>;
  /** The global ARGs' values (before the first FROM). */
  globalArgs: Map<string, string | undefined>;
  say(line: string): void;
  /** The container runtime, opened (and rid of RUN containers dead builds left) on first use. */
  runtime(): Promise<ContainerRuntime>;
  /** The store image of a state (made, untagged, when it is not one yet); for RUN, without VOLUMEs. */
  materialize(state: StageState, forRun: boolean): Promise<string>;
}

/**
 * A planned step: its cache identity, its history line, the layer work (run
 * only on a cache miss) and its effect on the config (always applied).
 */
export interface StepPlan {
  description: string;
  createdBy: string;
  work?: () => Promise<{ diffId: string } | undefined>;
  apply(state: StageState): void;
  /** Frees what planning fetched (downloads), hit or miss. */
  dispose?: () => void;
}

export function expand(word: string, env: Env, ctx: ExpandContext, pos: Position): string {
  try {
    return expandWord(word, env, ctx.file.escape);
  } catch (err) {
    throw errorAt(pos, errorMessage(err));
  }
}

export function expandList(word: string, env: Env, ctx: ExpandContext, pos: Position): string[] {
  try {
    return expandWords(word, env, ctx.file.escape);
  } catch (err) {
    throw errorAt(pos, errorMessage(err));
  }
}

/** Rethrows an error of a step as one naming its Dockerfile line (keeps errors that already do). */
export function atLine(err: unknown, pos: Position, what?: string): Error {
  if (err instanceof DockerfileError) return err;
  const e = err as Error & { hint?: string };
  if ((e as Error).name === 'AbortError') return e;
  return errorAt(pos, what ? `${what}: ${errorMessage(err)}` : errorMessage(err), e.hint);
}
