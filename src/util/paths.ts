import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where the engine keeps its state. Persistent state (images, volumes,
 * container configs) lives under the state root; runtime state that a reboot
 * wipes (sockets, pids, netns handles) under the run root. Both are root-only
 * (0700): layers may hold setuid binaries that no other host user may reach.
 */
export function stateRoot(): string {
  return process.env.TSCOMPOSE_ROOT || '/var/lib/tscompose';
}

export function runRoot(): string {
  return process.env.TSCOMPOSE_RUN || '/run/tscompose';
}

/**
 * Runtime state shared by every state root on the host (the network lock):
 * root-only, unlike /run/lock, where any user may create files.
 * TSCOMPOSE_HOST_RUN moves it (tests that plant files there).
 */
export function hostRunRoot(): string {
  return process.env.TSCOMPOSE_HOST_RUN || '/run/tscompose-host';
}

/** Creates a directory (and its parents) with root-only permissions; idempotent. */
export function ensurePrivateDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  return path;
}

export function statePath(...parts: string[]): string {
  return join(stateRoot(), ...parts);
}

export function runPath(...parts: string[]): string {
  return join(runRoot(), ...parts);
}
