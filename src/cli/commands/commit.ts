import type { Command } from 'commander';
import { defineCommit } from '../container/commit.js';

/** `tscompose commit`, as `docker commit` (also `tscompose container commit`). */
export function register(program: Command): void {
  defineCommit(program.command('commit'));
}
