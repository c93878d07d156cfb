/*
 * tsc-helper: the part of tscompose's engine that Node cannot do itself.
 * Mechanism only: every decision (namespaces, mounts, capabilities, ids,
 * cgroup paths) arrives from TypeScript in a line-based config file.
 */
#ifndef TSC_HELPER_H
#define TSC_HELPER_H

#include <stdint.h>
#include <stdnoreturn.h>
#include <sys/types.h>

/*
 * ---- The protocol between TypeScript and the helper, declared once ----
 *
 * TypeScript decides everything and writes it into a config file (CONF), one
 * directive per line: a KEY, then space-separated FIELDS escaped as "\\"
 * (backslash), "\s" (space), "\n", "\t" and "\e" (an empty field). Writers:
 * src/engine/native/runtime/launch.ts (start), exec.ts (exec), cp.ts (cp),
 * all through HelperConfig (helper.ts), whose keys are typed by the lists in
 * src/engine/native/runtime/helper-protocol.ts; test/runtime/protocol.test.ts
 * checks those lists against the #defines below, and that no .c file names a
 * key or an op by a bare string.
 *
 * Node runs `tsc-helper ENTRY CONF` with a pipe on fd 3, on which the helper
 * answers with lines:
 *
 *   start CONF   the helper forks the monitor, which clones PID 1 into new
 *                namespaces (K_CLONE; the ones of K_SHARE joined instead) and
 *                goes on watching it; the child joins
 *                the cgroups and the netns, mounts the root (K_ROOTFS,
 *                K_OVERLAY, K_OVERLAY_CWD), runs the K_OP directives in order,
 *                pivots, drops privileges (K_UID ... K_CAPS, K_SECCOMP, K_NNP)
 *                and execs K_ARG... through a sealed copy of the helper.
 *                Reply: "ok <pid 1> <monitor pid>" once the exec succeeded,
 *                or "error <exit code> <message>" (exit code 125 for the
 *                engine's failures, 126/127 for a command that cannot run).
 *                Detached, the helper then exits; attached (K_ATTACH) it
 *                stays as the relay of the container's stdio and ends with
 *                "exit <code>". The monitor writes K_EXIT, K_PIDFILE, K_LOG.
 *   exec CONF    joins the running container of K_PID (a pidfd, checked with
 *                the start time), the cgroups K_CGROUP and the namespaces
 *                K_JOIN. Reply: "ok <pid>", then "exit <code>"; or
 *                "error <code> <message>".
 *   cp CONF      works rooted at the container's root (joined when it runs,
 *                K_PID; mounted otherwise, K_ROOTFS...), in mode K_MODE:
 *                CP_STAT, CP_OUT (entries on stdout), CP_IN (entries on
 *                stdin). Reply: "ok d|D|f|l|n" (stat: a directory, a
 *                symlink to one, a file, a symlink, nothing) or "ok"; or
 *                "error <code> <message>".
 *   probe        takes no config and no fd 3: checks the kernel interfaces
 *                that have no fallback (native/compat.c); prints on stdout a
 *                line "missing <interface> <first kernel>" for each one the
 *                kernel lacks; when none is missing, a line "fallback
 *                <interface> <first kernel>" for each newer interface whose
 *                fallback this kernel needs (mount_setattr, close_range's
 *                CLOEXEC, overlay's lowerdir+; for `tscompose info`); then
 *                "ok <how many were missing>".
 *   selftest CONF  no fd 3, no kernel interfaces: decodes CONF and prints
 *                each directive as its key and each field in hex ("-" for
 *                an empty one), then "arch <the build's target>" and
 *                "ok <directives>". How a prebuilt helper for another
 *                architecture shows, under qemu-user, that it runs and reads
 *                the protocol (selftest.c).
 *
 *   keep QUICK_MS BACKOFF_MIN_MS BACKOFF_MAX_MS MAX_QUICK -- PROGRAM ARGS...
 *                no config and no fd 3: the parent of a long-lived program
 *                (the network daemon, src/network/daemon/client.ts) that
 *                starts it again whenever it dies other than by exiting 0;
 *                gives up after MAX_QUICK deaths in a row, each within
 *                QUICK_MS of its start (keep.c).
 *
 *   serve [ROOM]  no config and no fd 3: a resident parent for detached
 *                starts (serve.c). Requests on stdin: "<tag> <length>\n"
 *                and a start CONF of that length; each runs in a fork of
 *                this process exactly as `start` does, its fd 3 lines passed
 *                on to stdout as "<tag> <line>", then "<tag> done <exit
 *                code>". Ends with its stdin or its parent. ROOM (unused)
 *                makes argv long enough for the monitors' names, which
 *                are written over it.
 *
 * A key given more than once is a list (K_ARG, K_ENV, K_CGROUP, K_OP...);
 * otherwise the last one counts.
 */

/* Entry points: argv[1]. ("stage2" is internal: the sealed re-exec of the process.) */
#define CMD_START   "start"
#define CMD_EXEC    "exec"
#define CMD_CP      "cp"
#define CMD_STAGE2  "stage2"
#define CMD_PROBE   "probe"
#define CMD_SELFTEST "selftest"
#define CMD_KEEP    "keep"
#define CMD_SERVE   "serve"

/* Config keys (start unless said otherwise). */
#define K_ID          "id"            /* container id: the monitor names itself "tsc-monitor <12 hex>" */
#define K_ROOTFS      "rootfs"        /* start, cp: the merged overlay dir on the host */
#define K_OVERLAY     "overlay"       /* start, cp: the overlay mount data (lowerdir=..., relative to K_OVERLAY_CWD) */
#define K_OVERLAY_CWD "overlay_cwd"   /* start, cp: the directory the overlay data is relative to */
#define K_LO_UP       "lo_up"         /* 1: bring up lo in the new network namespace */
#define K_NETNS       "netns"         /* path of a network namespace to join */
#define K_SHARE       "share"         /* (list) HEXFLAGS PID START: the monitor joins these CLONE_NEW* namespaces of the running
                                         process PID (checked against its start time) before the clone, which then leaves them out */
#define K_CLONE       "clone"         /* hex CLONE_NEW* flags for PID 1 */
#define K_CGROUPNS    "cgroupns"      /* 1: a cgroup namespace too (the kernel has them) */
#define K_HOSTNAME    "hostname"      /* set in the new UTS namespace */
#define K_DOMAINNAME  "domainname"    /* likewise */
#define K_CGROUP      "cgroup"        /* start, exec (list): a cgroup.procs file to join */
#define K_DEVICE_FILTER "device_filter" /* start: CGROUP_DIR HEX: an eBPF device program (hex of its bpf_insn array) attached to the v2 cgroup (devices.c) */
#define K_OOM         "oom"           /* PATH KEY: the memory controller file whose KEY counts OOM kills */
#define K_LOG         "log"           /* the container.log the monitor writes */
#define K_LOG_MAX_SIZE "log_max_size" /* bytes at which the monitor rotates the log (LOG.1, LOG.2...); absent or 0: never */
#define K_LOG_MAX_FILE "log_max_file" /* log files kept, the live one included; 1: the live file is emptied instead */
#define K_LOG_COMPRESS "log_compress" /* 1: rotated files gzipped (LOG.1.gz ...), by the host's gzip, one at a time */
#define K_EXIT        "exit"          /* the exit record the monitor writes */
#define K_PIDFILE     "pidfile"       /* "<monitor pid> <start> <pid 1> <start>" */
#define K_TTY         "tty"           /* start, exec: 1: a pty for the process */
#define K_ATTACH      "attach"        /* 1: stay in the foreground as the relay of stdio */
#define K_STDIN       "stdin"         /* start, exec: 1: keep stdin open */
#define K_ROWS        "rows"          /* start, exec: the terminal's size */
#define K_COLS        "cols"          /* start, exec: (with K_ROWS) */
#define K_RESIZE      "resize"        /* start (attached), exec: 1: fd 5 carries "ROWS COLS\n" lines, the size of a terminal that is not fd 0 (an API client's) */
#define K_OP          "op"            /* (list) KIND FIELDS...: a step of the root's setup, one of OP_* */
#define K_OOM_SCORE_ADJ "oom_score_adj" /* written to /proc/self/oom_score_adj before the exec */
#define K_UID         "uid"           /* start, exec: the process's user ... */
#define K_GID         "gid"           /* start, exec: (with K_UID) */
#define K_GROUPS      "groups"        /* ... and its supplementary groups */
#define K_RLIMIT      "rlimit"        /* (list) RESOURCE SOFT HARD */
#define K_CAPS        "caps"          /* BOUNDING EFFECTIVE PERMITTED INHERITABLE AMBIENT, hex */
#define K_NNP         "nnp"           /* 1: no_new_privs */
#define K_SECCOMP     "seccomp"       /* the seccomp filter, hex of its sock_filter array */
#define K_CWD         "cwd"           /* start, exec: the working directory (made by an OP_MKDIR when the image lacks it) */
#define K_UMASK       "umask"         /* octal; default 022 */
#define K_ENV         "env"           /* (list) KEY=VALUE */
#define K_ARG         "arg"           /* (list) argv, in order */
#define K_PID         "pid"           /* exec, cp: PID 1 of the running container and its start time */
#define K_JOIN        "join"          /* exec: hex CLONE_NEW* flags of the namespaces to join */
#define K_DETACH      "detach"        /* exec: 1: do not wait for the process */
#define K_MODE        "mode"          /* cp: one of CP_* */
#define K_PATH        "path"          /* cp stat/out: the path in the container */
#define K_NAME        "name"          /* cp out: the name of the top entry */
#define K_DEST        "dest"          /* cp in: the directory to write into */
#define K_ARCHIVE     "archive"       /* cp in: 1: keep the owners of the entries */
#define K_ONE_FS      "one_fs"        /* cp out: 1: what other filesystems mount inside is left out (export) */

/* Op kinds: "op KIND FIELDS...", run in this order inside the new root, before the pivot (rootfs.c). */
#define OP_MOUNT    "mount"    /* FSTYPE SOURCE TARGET ATTRS(hex MS_*) DATA [USER]: USER 1 = a user's mount, guarded (rootfs.c) */
#define OP_BIND     "bind"     /* SOURCE TARGET ATTRS RECURSIVE [USER]: a host path (or volume) into the root; USER as for mount */
#define OP_COPYUP   "copyup"   /* TARGET HOSTDIR: fill an empty volume from the image (copyup.c) */
#define OP_MKNOD    "mknod"    /* TARGET c|b PERM MAJOR MINOR */
#define OP_SYMLINK  "symlink"  /* VALUE TARGET */
#define OP_MKDIR    "mkdir"    /* TARGET MODE */
#define OP_MASK     "mask"     /* TARGET: Docker's masked paths (/dev/null over files, an empty tmpfs over dirs) */
#define OP_RO       "ro"       /* TARGET: bound read-only */
#define OP_SYSCTL   "sysctl"   /* PATH-UNDER-/proc/sys VALUE */
#define OP_CONSOLE  "console"  /* the pty as /dev/console */
#define OP_SETATTR  "setattr"  /* TARGET ATTRS: remount the mount at TARGET (not its submounts) */
#define OP_BORROW   "borrow"   /* SOURCE TARGET: bind SOURCE of the mount namespace of the container whose IPC namespace
                                  K_SHARE joins (its /dev/shm: POSIX shared memory lives there, not in the namespace) */

/* cp modes (K_MODE). */
#define CP_STAT  "stat"
#define CP_OUT   "out"
#define CP_IN    "in"

/* ---- config: one directive per line, space-separated escaped fields ---- */

struct conf_line {
    char *key;
    int n;       /* number of fields after the key */
    char **arg;
};

struct conf {
    struct conf_line *lines;
    int n;
};

int conf_load(struct conf *c, const char *path);
/* The first field of the last line with this key, or NULL. */
const char *conf_get(const struct conf *c, const char *key);
long long conf_num(const struct conf *c, const char *key, long long dflt);
unsigned long long parse_hex(const char *s);
/* A hex field as bytes (malloc'd), or NULL when empty or not a whole number of `unit`-byte records. */
unsigned char *hex_bytes(const char *hex, size_t unit, size_t *len);
char *unescape_field(char *s);

/* ---- errors: reported as "error <code> <message>" on g_errfd, then exit ---- */

extern int g_errfd;
noreturn void fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
noreturn void fail_errno(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- small I/O helpers ---- */

int write_all(int fd, const void *buf, size_t len);
int write_file(const char *path, const char *text);
int read_small_file(const char *path, char *buf, size_t size);
unsigned long long proc_start_time(pid_t pid);
int container_pidfd(const struct conf *c);
int live_pidfd(pid_t pid, unsigned long long start);
/* The pidfd of the container whose IPC namespace K_SHARE joins, opened by the monitor (in the host's pid
 * namespace, where its pid means something) and inherited by PID 1 for OP_BORROW; -1 when none. */
extern int g_ipc_owner;

/* ---- the container's root filesystem (rootfs.c) ---- */

/* Mounts the root, runs the "op" directives inside it, returns an O_PATH fd of the root. */
int rootfs_prepare(const struct conf *c, int *tty_master, int *tty_slave);
void rootfs_pivot(int rootfd);
int open_in_root(int rootfd, const char *path, int flags, int resolve);
int ensure_in_root(int rootfd, const char *path, int want_dir, mode_t mode);
/* Fills an empty host directory from `target` in the root (copyup.c). */
void op_copyup(int rootfd, const char *target, const char *hostdir);

/* ---- the process that will run in the container (process.c) ---- */

/* Drops privileges as configured and execs the command through the sealed stage2; never returns. */
noreturn void process_exec(const struct conf *c, int helper_fd, int sync_fd);
/* A read-only, detached mount of this binary, to exec from inside the container (CVE-2019-5736). */
int sealed_self(void);
extern int g_sealed_self;
int stage2_main(int argc, char **argv);

/* ---- kernel interfaces newer than the floor, with their fallbacks (compat.c) ---- */

/* mount_setattr (5.12): 0, or -1 with errno ENOSYS where the kernel lacks it. */
int mount_attrs(int mfd, unsigned attrs, int recursive);
/* The fallback: a bind remount of the attached mount whose root `fd` is. */
void remount_attrs(int fd, unsigned attrs, int recursive, const char *target);
int sealed_copy_of_self(void);
void cloexec_from(int low);

/* ---- the device allow-list on cgroup v2 (devices.c) ---- */

/* Loads each K_DEVICE_FILTER program and attaches it to its cgroup, replacing one attached before. */
void attach_device_filter(const struct conf *c);

/* ---- entry points ---- */

int start_main(int argc, char **argv);
int exec_main(int argc, char **argv);
int cp_main(int argc, char **argv);
int probe_main(int argc, char **argv);
int selftest_main(int argc, char **argv);
int keep_main(int argc, char **argv);
int serve_main(int argc, char **argv);

/* monitor.c: the container's parent for its whole life. */
struct monitor_io {
    pid_t init;
    int out_r, err_r, in_w;  /* pipes (out_r is the pty master with a tty) */
    int tty;
    int attach;              /* socket to the foreground relay, or -1 */
};
noreturn void monitor_run(const struct conf *c, struct monitor_io *io);

/* relay.c: a foreground CLI's terminal. */
int relay_attached(int sock, int tty, int interactive, int resize_fd);
int relay_pty(int master, pid_t child, int interactive, int resize_fd);
/* The fd that carries window sizes when K_RESIZE is set. */
#define RESIZE_FD 5
void tty_raw(int fd);
void tty_restore(void);
void copy_winsize(int from_fd, int to_master);

/* Frames between the monitor and a foreground relay: type byte, 4-byte length, payload. */
enum frame_type {
    FR_STDIN = 0, FR_STDOUT = 1, FR_STDERR = 2, FR_EXIT = 3,
    FR_STDIN_EOF = 4, FR_RESIZE = 5, FR_SIGNAL = 6,
};
int frame_send(int fd, int type, const void *data, uint32_t len);
/* Reads one frame into buf (size cap); returns the type, -1 on EOF or error. */
int frame_recv(int fd, char *buf, uint32_t cap, uint32_t *len);

#endif
