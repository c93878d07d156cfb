import type { Project } from '../project/types.js';

/**
 * What a verb works on: the loaded project, or only its name. Verbs that
 * find everything by the engine's labels (down, ps, logs, stop, start...)
 * take either, as Compose's do when there is no compose file and `-p` names
 * the project; verbs that need the file's services (up, run, build...)
 * take a Project.
 */
export type ProjectRef = Project | { name: string };

/** The project when it was loaded, undefined when only its name is known. */
export function loadedProject(p: ProjectRef): Project | undefined {
  return 'services' in p ? p : undefined;
}
