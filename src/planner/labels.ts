/**
 * Compose's labels and names, exactly as Docker Compose v2 writes them
 * (pkg/api/labels.go): observed state is read back from these, so a project
 * started by tscompose is recognised by label, never by a side file.
 */
export const Label = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  containerNumber: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff',
  slug: 'com.docker.compose.slug',
  configHash: 'com.docker.compose.config-hash',
  image: 'com.docker.compose.image',
  dependsOn: 'com.docker.compose.depends_on',
  version: 'com.docker.compose.version',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  environmentFile: 'com.docker.compose.project.environment_file',
  replace: 'com.docker.compose.replace',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
  /**
   * Ours: a short digest per configuration field (`environment.FOO=1a2b3c4d;image=...`),
   * so that a recreate can say which field changed, not just that the hash did.
   */
  configFields: 'io.tscompose.config-fields',
} as const;

/** The version written into `com.docker.compose.version`. */
export const COMPOSE_VERSION = '2.40.0';

export function containerName(project: string, service: string, number: number): string {
  return `${project}-${service}-${number}`;
}

/** One-off (`run`) containers: `project-service-run-<slug12>`. */
export function oneoffContainerName(project: string, service: string, slug: string): string {
  return `${project}-${service}-run-${slug.slice(0, 12)}`;
}

/** The temporary name of a replacement container, as Compose names it during a recreate. */
export function replacementName(oldId: string, finalName: string): string {
  return `${oldId.slice(0, 12)}_${finalName}`;
}

/** Images Compose builds for a service without `image:` are called `project-service`. */
export function defaultImageName(project: string, service: string): string {
  return `${project}-${service}`;
}
