import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { ComposeError, displayPath, type Diagnostics } from './diagnostics.js';
import { readDotEnv } from './discovery.js';
import type { At } from './normalize/context.js';
import type { Project, ServiceConfig } from './types.js';

/**
 * Phase 12: each service's final environment, as the container will get it.
 * `env_file` files are read in order (a missing file is an error unless it
 * says `required: false`), `environment:` wins over them, and a variable
 * listed without a value takes the project environment's value when there
 * is one. Build args listed without a value do the same, or are dropped.
 * Label files add labels under `labels:`.
 */
export function resolveServiceEnvironment(project: Project, serviceAt: (name: string) => At, diags: Diagnostics): void {
  const lookup = (k: string) => project.environment[k];
  for (const s of [...Object.values(project.services), ...Object.values(project.disabledServices)]) {
    const at = serviceAt(s.name);
    const fromFiles: Record<string, string> = {};
    s.env_file.forEach((f, i) => {
      // Relative when paths are kept as written (config --no-path-resolution): from the project's directory.
      const values = readEnvFile(resolve(project.workingDir, f.path), f.required, f.format, (k) => fromFiles[k] ?? lookup(k), at.child('env_file', i), diags);
      Object.assign(fromFiles, values);
    });
    const env: ServiceConfig['environment'] = { ...fromFiles };
    for (const [k, v] of Object.entries(s.environment)) env[k] = v ?? lookup(k) ?? fromFiles[k] ?? null;
    s.environment = env;
    if (s.build) {
      for (const [k, v] of Object.entries(s.build.args)) {
        if (v !== null) continue;
        const value = lookup(k);
        if (value === undefined) delete s.build.args[k];
        else s.build.args[k] = value;
      }
    }
    if (s.label_file.length) {
      const labels: Record<string, string> = {};
      s.label_file.forEach((f, i) => Object.assign(labels, readEnvFile(resolve(project.workingDir, f), true, undefined, () => undefined, at.child('label_file', i), diags)));
      s.labels = { ...labels, ...s.labels };
    }
  }
}

function readEnvFile(
  path: string,
  required: boolean,
  format: string | undefined,
  lookup: (k: string) => string | undefined,
  at: At,
  diags: Diagnostics,
): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return {};
    const shown = displayPath(path);
    at.error(code === 'ENOENT' ? `env file ${shown} not found (set \`required: false\` to make it optional)` : `cannot read env file ${shown}: ${(err as Error).message}`);
    return {};
  }
  try {
    return readDotEnv(text, path, lookup, format);
  } catch (err) {
    if (!(err instanceof ComposeError)) throw err;
    for (const d of err.diagnostics) diags.error(d, d.message);
    return {};
  }
}
