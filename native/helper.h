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
int stage2_main(int argc, char **argv);

/* ---- kernel interfaces newer than the floor, with their fallbacks (compat.c) ---- */

/* mount_setattr (5.12): 0, or -1 with errno ENOSYS where the kernel lacks it. */
int mount_attrs(int mfd, unsigned attrs, int recursive);
/* The fallback: a bind remount of the attached mount whose root `fd` is. */
void remount_attrs(int fd, unsigned attrs, int recursive, const char *target);
int sealed_copy_of_self(void);
void cloexec_from(int low);

/* ---- entry points ---- */

int start_main(int argc, char **argv);
int exec_main(int argc, char **argv);
int cp_main(int argc, char **argv);
int probe_main(int argc, char **argv);

/* monitor.c: the container's parent for its whole life. */
struct monitor_io {
    pid_t init;
    int out_r, err_r, in_w;  /* pipes (out_r is the pty master with a tty) */
    int tty;
    int attach;              /* socket to the foreground relay, or -1 */
};
noreturn void monitor_run(const struct conf *c, struct monitor_io *io);

/* relay.c: a foreground CLI's terminal. */
int relay_attached(int sock, int tty, int interactive);
int relay_pty(int master, pid_t child, int interactive);
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
