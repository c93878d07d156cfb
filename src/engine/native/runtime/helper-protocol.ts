/**
 * The C helper's protocol as TypeScript sees it: the entry points, the
 * config keys, the op kinds and the cp modes, exactly the ones native/helper.h
 * declares (its comments say what each one means; test/runtime/protocol.test.ts
 * keeps the two lists equal). HelperConfig takes only these keys.
 */

export const ENTRY_POINTS = ['start', 'exec', 'cp', 'stage2', 'probe', 'selftest', 'keep', 'serve'] as const;
export type EntryPoint = (typeof ENTRY_POINTS)[number];

export const CONF_KEYS = [
  'id', 'rootfs', 'overlay', 'overlay_cwd', 'lo_up', 'netns', 'share', 'clone', 'cgroupns', 'hostname', 'domainname', 'cgroup', 'device_filter', 'oom',
  'log', 'log_max_size', 'log_max_file', 'log_compress', 'exit', 'pidfile', 'tty', 'attach', 'stdin', 'rows', 'cols', 'resize', 'op', 'oom_score_adj', 'uid', 'gid', 'groups', 'rlimit',
  'caps', 'nnp', 'seccomp', 'cwd', 'umask', 'env', 'arg', 'pid', 'join', 'detach', 'mode', 'path', 'name', 'dest', 'archive', 'one_fs',
] as const;
export type ConfKey = (typeof CONF_KEYS)[number];

export const OP_KINDS = ['mount', 'bind', 'copyup', 'mknod', 'symlink', 'mkdir', 'mask', 'ro', 'sysctl', 'console', 'setattr', 'borrow'] as const;
export type OpKind = (typeof OP_KINDS)[number];

export const CP_MODES = ['stat', 'out', 'in'] as const;
export type CpMode = (typeof CP_MODES)[number];
