/*
 * Kernel interfaces newer than the floor tscompose supports (Linux 5.10), each
 * with its fallback. The choice is made by trying the interface and looking
 * at the error (ENOSYS, EINVAL), never by reading the kernel's version: distro
 * kernels backport features. docs/internals.md lists them, with the first
 * kernel that has each.
 *
 * `tsc-helper probe` checks the interfaces that have no fallback, so that the
 * engine can say in one sentence that a kernel is too old, up front.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

/* mount_setattr (Linux 5.12): 0, or -1 with errno (ENOSYS where the kernel lacks it). */
int mount_attrs(int mfd, unsigned attrs, int recursive) {
    struct mount_attr attr = { .attr_set = attrs, .propagation = MS_PRIVATE };
    return mount_setattr(mfd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr);
}

/*
 * Before 5.12: the same attributes by a bind remount of the mount whose root
 * `fd` is (attached: a remount cannot reach a detached mount), keeping the
 * flags it already has, since a remount sets them all. Recursive requests
 * reach only the top mount, as Docker's read-only binds did before 5.12.
 */
void remount_attrs(int fd, unsigned attrs, int recursive, const char *target) {
    const unsigned known = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    if (attrs & ~known) fail(125, "set mount options %#x on %s: this kernel has no mount_setattr (Linux 5.12)", attrs, target);
    struct statvfs sv;
    if (fstatvfs(fd, &sv) < 0) fail_errno(125, "read the mount options of %s", target);
    /* ST_* and MS_* share their values; MOUNT_ATTR_{RDONLY,NOSUID,NODEV,NOEXEC} too. */
    unsigned long keep = sv.f_flag & (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME | ST_NODIRATIME | ST_RELATIME);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | keep | attrs, NULL) < 0) fail_errno(125, "set mount options on %s", target);
    if (mount(NULL, path, NULL, MS_PRIVATE | (recursive ? MS_REC : 0), NULL) < 0) fail_errno(125, "make %s private", target);
}

/*
 * Without mount_setattr, the helper cannot be sealed as a read-only mount of
 * itself: a sealed memfd copy does the same job (runc's way before 5.12).
 */
int sealed_copy_of_self(void) {
    int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (src < 0 || fstat(src, &st) < 0) fail_errno(125, "open the helper binary");
    int fd = memfd_create("tsc-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) fail_errno(125, "copy the helper binary");
    for (off_t off = 0; off < st.st_size;) {
        ssize_t n = sendfile(fd, src, &off, (size_t)(st.st_size - off));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail_errno(125, "copy the helper binary");
    }
    close(src);
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) fail_errno(125, "seal the helper binary");
    return fd;
}

/* Marks every fd from `low` up close-on-exec: close_range's flag is Linux 5.11; before, /proc/self/fd is walked. */
void cloexec_from(int low) {
    if (close_range((unsigned)low, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
    if (errno != EINVAL && errno != ENOSYS) fail_errno(125, "close inherited fds");
    DIR *d = opendir("/proc/self/fd");
    if (!d) fail_errno(125, "list inherited fds");
    for (struct dirent *e; (e = readdir(d));) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd < low || fd == dirfd(d)) continue;
        if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF) fail_errno(125, "close inherited fd %d", fd);
    }
    closedir(d);
}

/* ---- probe: the interfaces without a fallback, and which fallbacks this kernel needs ---- */

static void missing(int *n, const char *what, const char *since) {
    printf("missing %s %s\n", what, since);
    (*n)++;
}

/*
 * Overlay's "lowerdir+" (6.8): a read-only overlay of two empty directories,
 * created but never mounted. 1 yes, 0 no, -1 unknown (no overlay, no rights).
 * Only creating tells: the legacy mount context of kernels before 6.5 takes
 * any key at fsconfig and refuses it at create.
 */
static int overlay_lowerdir_plus(void) {
    char base[] = "/tmp/tsc-probe-XXXXXX", a[64], b[64];
    if (!mkdtemp(base)) return -1;
    snprintf(a, sizeof a, "%s/a", base);
    snprintf(b, sizeof b, "%s/b", base);
    int ok = -1;
    if (mkdir(a, 0700) == 0 && mkdir(b, 0700) == 0) {
        int fs = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fs >= 0) {
            ok = fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", a, 0) == 0 && fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", b, 0) == 0 &&
                 fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0;
            close(fs);
        }
    }
    rmdir(a);
    rmdir(b);
    rmdir(base);
    return ok;
}

/* The interfaces newer than the floor that this kernel lacks, so that their fallbacks are in use: "fallback <interface> <first Linux>". */
static void fallbacks(void) {
    struct mount_attr attr = { 0 };
    if (mount_setattr(-1, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0 && errno == ENOSYS) printf("fallback mount_setattr 5.12\n");
    /* No fd is that high: nothing changes where the flag is known. */
    if (close_range(0x7ffffff0U, ~0U, CLOSE_RANGE_CLOEXEC) < 0 && (errno == EINVAL || errno == ENOSYS)) printf("fallback close_range(CLOEXEC) 5.11\n");
    if (overlay_lowerdir_plus() == 0) printf("fallback lowerdir+ 6.8\n");
}

int probe_main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    int n = 0;
    int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0 && errno == ENOSYS) missing(&n, "fsopen", "5.2");
    if (fs >= 0) close(fs);
    int ov = fsopen("overlay", FSOPEN_CLOEXEC);
    if (ov < 0 && errno == ENODEV) missing(&n, "overlay", "-");
    if (ov >= 0) close(ov);
    struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
    int fd = (int)syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
    if (fd < 0 && errno == ENOSYS) missing(&n, "openat2", "5.6");
    if (fd >= 0) close(fd);
    int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    if (pidfd < 0 && errno == ENOSYS) missing(&n, "pidfd_open", "5.3");
    /* Joining our own uts namespace through a pidfd changes nothing, but needs setns on pidfds. */
    if (pidfd >= 0 && setns(pidfd, CLONE_NEWUTS) < 0 && errno == EINVAL) missing(&n, "setns(pidfd)", "5.8");
    if (pidfd >= 0) close(pidfd);
    if (n == 0) fallbacks();
    printf("ok %d\n", n);
    return 0;
}
