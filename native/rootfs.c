/*
 * The container's root filesystem, set up inside its new mount namespace so
 * that a crash leaks nothing on the host. Every mount destination is resolved
 * inside the root with openat2(RESOLVE_IN_ROOT): a symlink in the image can
 * redirect a mount only to another place inside the root, never out of it.
 * Mounts go onto that resolved fd, never onto a path looked up again: binds
 * with the fd-based API (open_tree, move_mount), new filesystems with one
 * mount(2) onto /proc/self/fd/N (the magic link is the resolved fd itself;
 * one system call where fsopen, fsconfig per option, fsmount and move_mount
 * take six to ten), the fd-based API being kept to word a failure with the
 * filesystem's own message.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "helper.h"

#define RESOLVE_BASE (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

int open_in_root(int rootfd, const char *path, int flags, int resolve) {
    struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .mode = 0, .resolve = (uint64_t)(RESOLVE_BASE | resolve) };
    int fd;
    do fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
    while (fd < 0 && errno == EAGAIN);
    return fd;
}

/*
 * Opens (O_PATH) the path inside the root, creating what is missing: parent
 * directories, and the last component as a directory or an empty file. A
 * dangling symlink on the way (an image's /etc/resolv.conf -> ../run/...) is
 * followed inside the root and its target created, as runc does.
 */
int ensure_in_root(int rootfd, const char *path, int want_dir, mode_t mode) {
    char cur[PATH_MAX];
    snprintf(cur, sizeof cur, "%s", path);
    for (int depth = 0; depth < 40; depth++) {
        int fd = open_in_root(rootfd, cur, O_PATH, 0);
        if (fd >= 0 || errno != ENOENT) return fd;

        int parent = open_in_root(rootfd, "/", O_PATH | O_DIRECTORY, 0);
        if (parent < 0) return -1;
        char walk[PATH_MAX] = "";
        char *p = cur;
        int restarted = 0;
        while (*p) {
            while (*p == '/') p++;
            if (!*p) break;
            char *end = strchrnul(p, '/');
            char comp[NAME_MAX + 1];
            size_t len = (size_t)(end - p);
            if (len > NAME_MAX) { close(parent); errno = ENAMETOOLONG; return -1; }
            memcpy(comp, p, len);
            comp[len] = 0;
            const char *rest = end;
            while (*rest == '/') rest++;
            int last = *rest == 0;

            char prefix[PATH_MAX];
            snprintf(prefix, sizeof prefix, "%s/%s", walk, comp);
            fd = open_in_root(rootfd, prefix, O_PATH, 0);
            if (fd < 0 && errno != ENOENT) { close(parent); return -1; }
            if (fd < 0) {
                struct stat st;
                if (fstatat(parent, comp, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                    if (!S_ISLNK(st.st_mode)) { close(parent); errno = ENOENT; return -1; }
                    char link[PATH_MAX];
                    ssize_t n = readlinkat(parent, comp, link, sizeof link - 1);
                    if (n < 0) { close(parent); return -1; }
                    link[n] = 0;
                    char next[PATH_MAX];
                    if (snprintf(next, sizeof next, "%s/%s%s%s", link[0] == '/' ? "" : walk, link, *rest ? "/" : "", rest) >= (int)sizeof next) {
                        close(parent);
                        errno = ENAMETOOLONG;
                        return -1;
                    }
                    snprintf(cur, sizeof cur, "%s", next);
                    restarted = 1;
                    break;
                }
                if (errno != ENOENT) { close(parent); return -1; }
                if (!last || want_dir) {
                    if (mkdirat(parent, comp, last ? mode : 0755) < 0 && errno != EEXIST) { close(parent); return -1; }
                } else {
                    int f = openat(parent, comp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
                    if (f < 0 && errno != EEXIST) { close(parent); return -1; }
                    if (f >= 0) close(f);
                }
                fd = openat(parent, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) { close(parent); return -1; }
            }
            close(parent);
            parent = fd;
            snprintf(walk, sizeof walk, "%s", prefix);
            p = end;
        }
        close(parent);
        (void)restarted; /* either way, the next round opens the (new) path from the top */
    }
    errno = ELOOP;
    return -1;
}

/* Why a new mount failed: errno, and the filesystem's own words from the fs context's log. */
struct fs_error {
    int err;
    char log[512];
};

static noreturn void fs_report(const char *what, const char *target, const struct fs_error *e) {
    errno = e->err;
    if (*e->log) fail(125, "mount %s on %s: %s (%s)", what, target, strerror(e->err), e->log);
    fail_errno(125, "mount %s on %s", what, target);
}

static int fs_error(int fsfd, struct fs_error *e) {
    e->err = errno;
    e->log[0] = 0;
    if (fsfd >= 0) {
        ssize_t n = read(fsfd, e->log, sizeof e->log - 1);
        e->log[n > 0 ? n : 0] = 0;
        if (n > 0 && e->log[n - 1] == '\n') e->log[n - 1] = 0;
        close(fsfd);
    }
    return -1;
}

/*
 * A new, detached filesystem mount; `data` is comma-separated options, as for
 * mount(8). Overlay's lower dirs go one fsconfig call each ("lowerdir+", Linux
 * 6.8), since fsconfig takes values of at most 256 bytes. Returns -1 and fills
 * `e` on failure.
 */
static int fs_try(const char *type, const char *source, const char *data, unsigned attrs, struct fs_error *e) {
    int fsfd = fsopen(type, FSOPEN_CLOEXEC);
    if (fsfd < 0) return fs_error(-1, e);
    if (source && *source && fsconfig(fsfd, FSCONFIG_SET_STRING, "source", source, 0) < 0) return fs_error(fsfd, e);
    char *opts = strdup(data ? data : "");
    int ok = 1;
    for (char *save = NULL, *o = strtok_r(opts, ",", &save); o && ok; o = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(o, '=');
        if (!eq) {
            ok = fsconfig(fsfd, FSCONFIG_SET_FLAG, o, NULL, 0) == 0;
            continue;
        }
        *eq = 0;
        const char *val = eq + 1;
        if (strcmp(type, "overlay") == 0 && strcmp(o, "lowerdir") == 0) {
            char *layers = strdup(val);
            for (char *ls = NULL, *l = strtok_r(layers, ":", &ls); l && ok; l = strtok_r(NULL, ":", &ls))
                ok = fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", l, 0) == 0;
            free(layers);
        } else {
            ok = fsconfig(fsfd, FSCONFIG_SET_STRING, o, val, 0) == 0;
        }
    }
    free(opts);
    if (!ok || fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) return fs_error(fsfd, e);
    int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attrs);
    if (mfd < 0) return fs_error(fsfd, e);
    close(fsfd);
    return mfd;
}

static int fs_mount(const char *type, const char *source, const char *data, unsigned attrs, const char *target) {
    struct fs_error e;
    int mfd = fs_try(type, source, data, attrs, &e);
    if (mfd < 0) fs_report(type, target, &e);
    return mfd;
}

static void attach(int mfd, int targetfd, const char *what, const char *target) {
    if (move_mount(mfd, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        fail_errno(125, "mount %s on %s", what, target);
    close(mfd);
}

/*
 * Attaches a detached mount at `target` (in the root) with these attributes:
 * set before it is visible where the kernel has mount_setattr (5.12), by a
 * remount right after attaching it where not.
 */
static void attach_with_attrs(int mfd, unsigned attrs, int recursive, int rootfd, int targetfd, const char *what, const char *target) {
    if (mount_attrs(mfd, attrs, recursive) == 0) {
        attach(mfd, targetfd, what, target);
        return;
    }
    if (errno != ENOSYS) fail_errno(125, "set mount options on %s", target);
    attach(mfd, targetfd, what, target);
    int fd = open_in_root(rootfd, target, O_PATH, 0);
    if (fd < 0) fail_errno(125, "open %s", target);
    remount_attrs(fd, attrs, recursive, target);
    close(fd);
}

/* The attributes of the mount attached at `fd` (its root), by whichever interface the kernel has. */
static void set_attrs(int fd, unsigned attrs, int recursive, const char *target) {
    if (mount_attrs(fd, attrs, recursive) == 0) return;
    if (errno != ENOSYS) fail_errno(125, "set mount options on %s", target);
    remount_attrs(fd, attrs, recursive, target);
}

/*
 * A new filesystem mounted onto the resolved mount point `fd` with mount(2).
 * MOUNT_ATTR_RDONLY is applied to the mount alone, afterwards (mount(2)'s
 * MS_RDONLY would ask it of the superblock, which sysfs shares with every
 * mount of the same network namespace: the host's, with --network host).
 * Where mount(2) refuses, the fd-based API mounts it instead, or says why in
 * the filesystem's own words.
 */
static void new_mount(const char *type, const char *source, const char *data, unsigned attrs, int rootfd, int fd, const char *target) {
    char at[64];
    snprintf(at, sizeof at, "/proc/self/fd/%d", fd);
    unsigned long flags = (attrs & MOUNT_ATTR_NOSUID ? MS_NOSUID : 0) | (attrs & MOUNT_ATTR_NODEV ? MS_NODEV : 0) |
                          (attrs & MOUNT_ATTR_NOEXEC ? MS_NOEXEC : 0);
    if (mount(source && *source ? source : type, at, type, flags, data && *data ? data : NULL) < 0) {
        attach(fs_mount(type, source, data, attrs, target), fd, type, target);
        return;
    }
    if (!(attrs & MOUNT_ATTR_RDONLY)) return;
    int root = open_in_root(rootfd, target, O_PATH, 0);
    if (root < 0) fail_errno(125, "open %s", target);
    set_attrs(root, MOUNT_ATTR_RDONLY, 0, target);
    close(root);
}

static int target_fd(int rootfd, const char *target, int want_dir) {
    int fd = ensure_in_root(rootfd, target, want_dir, want_dir ? 0755 : 0644);
    if (fd < 0) fail_errno(125, "create mount point %s in the container", target);
    return fd;
}

/* Opens the parent directory of `path` inside the root (created if missing) and points *name at the last component. */
static int parent_in_root(int rootfd, const char *path, char *name, size_t size) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || !slash[1]) fail(125, "bad path %s", path);
    snprintf(name, size, "%s", slash + 1);
    if (slash == dir) slash[1] = 0; else *slash = 0;
    int fd = ensure_in_root(rootfd, dir, 1, 0755);
    if (fd < 0) fail_errno(125, "create %s in the container", dir);
    return fd;
}

/* ---- masking (Docker's masked paths), with a /dev/null that must really be 1:3 ---- */

/*
 * The mounts every later mask of its kind is cloned from: the first masked
 * directory's empty tmpfs and the first masked file's /dev/null bind, each
 * attached where it masks (so that no detached copy is left to dissolve) and
 * cloned with its attributes (read-only, nosuid, ...) by open_tree: one
 * tmpfs superblock for all the directories, made and torn down once.
 */
static int mask_dir_src = -1, mask_file_src = -1;

static void op_mask(int rootfd, const char *target) {
    int fd = open_in_root(rootfd, target, O_PATH, 0);
    if (fd < 0) {
        if (errno == ENOENT) return;
        fail_errno(125, "mask %s", target);
    }
    struct stat st;
    if (fstat(fd, &st) < 0) fail_errno(125, "mask %s", target);
    int dir = S_ISDIR(st.st_mode);
    int *src = dir ? &mask_dir_src : &mask_file_src;
    int mfd;
    if (*src >= 0) {
        mfd = open_tree(*src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (mfd < 0) fail_errno(125, "mask %s", target);
        if (move_mount(mfd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) fail_errno(125, "mount a mask on %s", target);
        close(mfd);
        close(fd);
        return;
    }
    if (dir) {
        mfd = fs_mount("tmpfs", "tmpfs", "size=0", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, target);
        if (move_mount(mfd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) fail_errno(125, "mount a mask on %s", target);
    } else {
        /* Fail closed: binding anything but the real null device would expose or hide the wrong thing (CVE-2025-31133). */
        /* Symlinks may lead anywhere inside the root: what counts is what the fd we bind is. */
        int null = open_in_root(rootfd, "/dev/null", O_PATH, 0);
        struct stat ns;
        if (null < 0 || fstat(null, &ns) < 0 || !S_ISCHR(ns.st_mode) || ns.st_rdev != makedev(1, 3))
            fail(125, "refusing to mask %s: /dev/null in the container is not the null device (char 1:3)", target);
        mfd = open_tree(null, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (mfd < 0) fail_errno(125, "mask %s", target);
        close(null);
        unsigned attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;
        if (mount_attrs(mfd, attrs, 0) == 0) {
            if (move_mount(mfd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) fail_errno(125, "mount a mask on %s", target);
        } else {
            /* No mount_setattr (before 5.12): attached, then remounted; the clone source is then the mount at the target. */
            attach_with_attrs(mfd, attrs, 0, rootfd, fd, "a mask", target);
            mfd = open_in_root(rootfd, target, O_PATH, 0);
            if (mfd < 0) fail_errno(125, "mask %s", target);
        }
    }
    /* Attached: the fd now names the mask at the target, the source of the next ones. */
    *src = mfd;
    close(fd);
}

static void op_readonly(int rootfd, const char *target) {
    int fd = open_in_root(rootfd, target, O_PATH, 0);
    if (fd < 0) {
        if (errno == ENOENT) return;
        fail_errno(125, "make %s read-only", target);
    }
    int mfd = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
    if (mfd < 0) fail_errno(125, "make %s read-only", target);
    attach_with_attrs(mfd, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 1, rootfd, fd, "a read-only bind", target);
    close(fd);
}

/*
 * Another container's mount (its /dev/shm, for ipc: service:x), cloned from
 * inside that container's mount namespace (open_tree cannot clone a mount of
 * another namespace from outside it), then attached here.
 */
static void op_borrow(int rootfd, const char *source, const char *target) {
    if (g_ipc_owner < 0) fail(125, "helper: borrow without an IPC namespace to share");
    int self = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (self < 0) fail_errno(125, "open the container's mount namespace");
    if (setns(g_ipc_owner, CLONE_NEWNS) < 0) fail_errno(125, "enter the mount namespace of the container sharing %s", source);
    /* The other container owns its tree: a symlink planted there is not followed, and only a tmpfs is taken. */
    int mfd = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
    int err = errno;
    if (setns(self, CLONE_NEWNS) < 0) fail_errno(125, "return to the container's mount namespace");
    close(self);
    errno = err;
    if (mfd < 0) fail_errno(125, "bind %s of the container sharing it", source);
    struct statfs sf;
    struct stat st;
    if (fstatfs(mfd, &sf) < 0 || sf.f_type != TMPFS_MAGIC || fstat(mfd, &st) < 0 || !S_ISDIR(st.st_mode))
        fail(125, "refusing to share %s: in the container sharing it, it is not a tmpfs directory", source);
    int fd = target_fd(rootfd, target, 1);
    attach(mfd, fd, source, target);
    close(fd);
}

/* The console: a pty from the container's own devpts instance, so /dev/pts/0 inside is the real name. */
static void op_console(int rootfd, int *master, int *slave) {
    int m = open_in_root(rootfd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY, RESOLVE_NO_SYMLINKS);
    if (m < 0) fail_errno(125, "open /dev/pts/ptmx in the container");
    int unlock = 0;
    if (ioctl(m, TIOCSPTLCK, &unlock) < 0) fail_errno(125, "unlock the container's pty");
    int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) fail_errno(125, "open the container's pty");
    int fd = target_fd(rootfd, "/dev/console", 0);
    int mfd = open_tree(s, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (mfd < 0) fail_errno(125, "bind the console");
    attach(mfd, fd, "the console", "/dev/console");
    close(fd);
    *master = m;
    *slave = s;
}

/*
 * A user's mount may not land inside /proc (whatever symlinks of the image
 * led there), as runc refuses, but for the files lxcfs-style setups cover;
 * nor inside /sys unless the target the user wrote is there. Judged on the
 * resolved mount point, the fd the mount is attached to.
 */
static const char *const PROC_ALLOWED[] = {
    "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
    "/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid", NULL,
};

static int under(const char *path, const char *dir) {
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == 0 || path[n] == '/');
}

static void guard_user_target(int rootfd, int fd, const char *target) {
    char root[PATH_MAX], at[PATH_MAX], link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", rootfd);
    ssize_t rn = readlink(link, root, sizeof root - 1);
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t an = readlink(link, at, sizeof at - 1);
    if (rn < 0 || an < 0) fail_errno(125, "resolve the mount point %s", target);
    root[rn] = 0;
    at[an] = 0;
    const char *rel = strcmp(root, "/") == 0 ? at : at + rn;
    if (!under(at, strcmp(root, "/") == 0 ? "" : root)) fail(125, "refusing to mount on %s: it resolves outside the container's root", target);
    if (!*rel) rel = "/";
    if (under(rel, "/proc")) {
        for (int i = 0; PROC_ALLOWED[i]; i++)
            if (strcmp(rel, PROC_ALLOWED[i]) == 0) return;
        fail(125, "refusing to mount on %s: it is %s inside the container, and nothing may be mounted inside /proc", target, rel);
    }
    if (under(rel, "/sys") && !under(target, "/sys"))
        fail(125, "refusing to mount on %s: a symlink in the image leads it to %s, inside /sys", target, rel);
}

static void run_op(int rootfd, const struct conf_line *l, int *tty_master, int *tty_slave) {
    const char *kind = l->n > 0 ? l->arg[0] : "";
    char *const *a = l->arg + 1;
    int n = l->n - 1;
    if (strcmp(kind, OP_MOUNT) == 0 && n >= 5) {            /* fstype source target attrs data */
        /* procfs and sysfs mounted through a symlink would move every later mask elsewhere (CVE-2019-19921). */
        if (strcmp(a[0], "proc") == 0 || strcmp(a[0], "sysfs") == 0) {
            int check = open_in_root(rootfd, a[2], O_PATH, RESOLVE_NO_SYMLINKS);
            if (check < 0 && errno == ELOOP) fail(125, "%s must not be a symlink in the image", a[2]);
            if (check >= 0) close(check);
        }
        int fd = target_fd(rootfd, a[2], 1);
        if (n >= 6 && a[5][0] == '1') guard_user_target(rootfd, fd, a[2]);
        new_mount(a[0], a[1], a[4], (unsigned)parse_hex(a[3]), rootfd, fd, a[2]);
        close(fd);
    } else if (strcmp(kind, OP_BIND) == 0 && n >= 4) {      /* source target attrs recursive */
        int mfd = open_tree(AT_FDCWD, a[0], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (a[3][0] == '1' ? AT_RECURSIVE : 0));
        if (mfd < 0) fail_errno(125, "bind mount %s", a[0]);
        struct stat st;
        if (fstat(mfd, &st) < 0) fail_errno(125, "bind mount %s", a[0]);
        int fd = target_fd(rootfd, a[1], S_ISDIR(st.st_mode));
        if (n >= 5 && a[4][0] == '1') guard_user_target(rootfd, fd, a[1]);
        attach_with_attrs(mfd, (unsigned)parse_hex(a[2]), a[3][0] == '1', rootfd, fd, a[0], a[1]);
        close(fd);
    } else if (strcmp(kind, OP_COPYUP) == 0 && n >= 2) {    /* target hostdir */
        op_copyup(rootfd, a[0], a[1]);
    } else if (strcmp(kind, OP_MKNOD) == 0 && n >= 5) {     /* target c|b perm major minor */
        char name[NAME_MAX + 1];
        int dir = parent_in_root(rootfd, a[0], name, sizeof name);
        mode_t perm = (mode_t)strtoul(a[2], NULL, 8);
        mode_t type = a[1][0] == 'b' ? S_IFBLK : S_IFCHR;
        if (mknodat(dir, name, type | perm, makedev(atoi(a[3]), atoi(a[4]))) < 0 && errno != EEXIST)
            fail_errno(125, "create device %s", a[0]);
        close(dir);
    } else if (strcmp(kind, OP_SYMLINK) == 0 && n >= 2) {   /* value target */
        char name[NAME_MAX + 1];
        int dir = parent_in_root(rootfd, a[1], name, sizeof name);
        if (symlinkat(a[0], dir, name) < 0 && errno != EEXIST) fail_errno(125, "create symlink %s", a[1]);
        close(dir);
    } else if (strcmp(kind, OP_MKDIR) == 0 && n >= 2) {     /* target mode */
        int fd = ensure_in_root(rootfd, a[0], 1, (mode_t)strtoul(a[1], NULL, 8));
        if (fd < 0) fail_errno(125, "create directory %s", a[0]);
        close(fd);
    } else if (strcmp(kind, OP_MASK) == 0 && n >= 1) {
        op_mask(rootfd, a[0]);
    } else if (strcmp(kind, OP_RO) == 0 && n >= 1) {
        op_readonly(rootfd, a[0]);
    } else if (strcmp(kind, OP_SYSCTL) == 0 && n >= 2) {    /* path-under-/proc/sys value */
        char path[PATH_MAX];
        snprintf(path, sizeof path, "/proc/sys/%s", a[0]);
        int fd = open_in_root(rootfd, path, O_WRONLY, RESOLVE_NO_SYMLINKS);
        if (fd < 0 || write_all(fd, a[1], strlen(a[1])) < 0) fail_errno(125, "set sysctl %s", a[0]);
        close(fd);
    } else if (strcmp(kind, OP_BORROW) == 0 && n >= 2) {   /* source target */
        op_borrow(rootfd, a[0], a[1]);
    } else if (strcmp(kind, OP_CONSOLE) == 0) {
        op_console(rootfd, tty_master, tty_slave);
    } else if (strcmp(kind, OP_SETATTR) == 0 && n >= 2) {  /* target attrs: the mount at target, not its submounts */
        int fd = open_in_root(rootfd, a[0], O_PATH, 0);
        if (fd < 0) fail_errno(125, "set mount options on %s", a[0]);
        set_attrs(fd, (unsigned)parse_hex(a[1]), 0, a[0]);
        close(fd);
    } else {
        fail(125, "helper: unknown or malformed op \"%s\"", kind);
    }
}

/*
 * The image's layers under the container's upper dir. Kernels without
 * "lowerdir+" (before 6.8) refuse it: 6.5-6.7 at fsconfig, older ones (whose
 * overlay parses its options only when mounting) at create, both with EINVAL.
 * There the whole option string goes to mount(2), which takes one page: the
 * image store keeps it short with relative l/ links, resolved from the
 * working directory set to the store's root.
 */
static void overlay_root(const char *data, const char *rootfs, int target) {
    struct fs_error e;
    int mfd = fs_try("overlay", "overlay", data, 0, &e);
    if (mfd >= 0) {
        attach(mfd, target, "the root filesystem", rootfs);
        return;
    }
    if (e.err != EINVAL) fs_report("overlay", "/", &e);
    if (mount("overlay", rootfs, "overlay", 0, data) < 0) {
        /* The first attempt's log speaks of lowerdir+, which is not what failed now. */
        e.err = errno;
        e.log[0] = 0;
        fs_report("overlay", "/", &e);
    }
}

int rootfs_prepare(const struct conf *c, int *tty_master, int *tty_slave) {
    const char *rootfs = conf_get(c, K_ROOTFS);
    if (!rootfs) fail(125, "helper: no rootfs in the config");
    /* Nothing we mount may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail_errno(125, "make mounts private");
    int target = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (target < 0) fail_errno(125, "open rootfs %s", rootfs);
    const char *overlay = conf_get(c, K_OVERLAY);
    /* The image store writes layer paths relative to its root, so that many layers fit in one page. */
    const char *overlay_cwd = conf_get(c, K_OVERLAY_CWD);
    if (overlay && overlay_cwd && chdir(overlay_cwd) < 0) fail_errno(125, "chdir %s", overlay_cwd);
    if (overlay) {
        overlay_root(overlay, rootfs, target);
    } else {
        int mfd = open_tree(target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
        if (mfd < 0) fail_errno(125, "bind rootfs %s", rootfs);
        attach(mfd, target, "the root filesystem", rootfs);
    }
    close(target);
    int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) fail_errno(125, "open rootfs %s", rootfs);
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->lines[i].key, K_OP) == 0) run_op(rootfd, &c->lines[i], tty_master, tty_slave);
    /* Attached mounts: closing their fds unmounts nothing. */
    if (mask_dir_src >= 0) close(mask_dir_src);
    if (mask_file_src >= 0) close(mask_file_src);
    mask_dir_src = mask_file_src = -1;
    return rootfd;
}

void rootfs_pivot(int rootfd) {
    if (fchdir(rootfd) < 0) fail_errno(125, "enter the root filesystem");
    if (syscall(SYS_pivot_root, ".", ".") < 0) fail_errno(125, "pivot_root");
    /* The old root is now stacked under "."; detach it without telling any peer. */
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) fail_errno(125, "make the old root a slave");
    if (umount2(".", MNT_DETACH) < 0) fail_errno(125, "detach the old root");
    if (chdir("/") < 0) fail_errno(125, "chdir /");
}
