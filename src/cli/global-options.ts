/** Global options shared by every command, as Docker Compose names them. */
export interface GlobalOptions {
  file?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFile?: string[];
  profile?: string[];
  progress?: 'auto' | 'tty' | 'plain' | 'json' | 'quiet';
  ansi?: 'never' | 'always' | 'auto';
  dryRun?: boolean;
  /** Engine operations at once (-1: unlimited). */
  parallel?: number;
  compatibility?: boolean;
  allResources?: boolean;
  backend?: 'native' | 'docker' | 'swarm';
}
