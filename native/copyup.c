/*
 * Copy-up: a new (empty) volume gets the image's content at its mount point,
 * as Docker does, with owners, modes and times. The source is read inside
 * the container's root (fds only, never following a symlink); the
 * destination is the volume's directory on the host, fresh and ours.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper.h"

static void copy_tree(int src, int dst, const char *where);

static void copy_meta(int fd, const struct stat *st) {
    if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0)
        fail_errno(125, "copy ownership into a new volume");
    struct timespec ts[2] = { st->st_atim, st->st_mtim };
    futimens(fd, ts);
}

static void copy_entry(int src, int dst, const char *name, const char *where) {
    struct stat st;
    if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0) fail_errno(125, "copy %s/%s into a new volume", where, name);
    if (S_ISDIR(st.st_mode)) {
        if (mkdirat(dst, name, 0700) < 0) fail_errno(125, "copy %s/%s into a new volume", where, name);
        int s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0 || d < 0) fail_errno(125, "copy %s/%s into a new volume", where, name);
        char sub[PATH_MAX];
        snprintf(sub, sizeof sub, "%s/%s", where, name);
        copy_tree(s, d, sub);
        copy_meta(d, &st);
        close(s);
        close(d);
    } else if (S_ISREG(st.st_mode)) {
        int s = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        int d = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (s < 0 || d < 0) fail_errno(125, "copy %s/%s into a new volume", where, name);
        for (;;) {
            ssize_t n = copy_file_range(s, NULL, d, NULL, 1 << 30, 0);
            if (n == 0) break;
            if (n < 0) {
                if (errno != EXDEV && errno != EINVAL && errno != ENOSYS) fail_errno(125, "copy %s/%s", where, name);
                char buf[65536];
                ssize_t r;
                while ((r = read(s, buf, sizeof buf)) > 0)
                    if (write_all(d, buf, r) < 0) fail_errno(125, "copy %s/%s", where, name);
                break;
            }
        }
        copy_meta(d, &st);
        close(s);
        close(d);
    } else if (S_ISLNK(st.st_mode)) {
        char link[PATH_MAX];
        ssize_t n = readlinkat(src, name, link, sizeof link - 1);
        if (n < 0) fail_errno(125, "copy %s/%s", where, name);
        link[n] = 0;
        if (symlinkat(link, dst, name) < 0) fail_errno(125, "copy %s/%s", where, name);
        fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
    } else {
        if (mknodat(dst, name, st.st_mode, st.st_rdev) < 0) fail_errno(125, "copy %s/%s", where, name);
        fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
        fchmodat(dst, name, st.st_mode & 07777, 0);
    }
}

static void copy_tree(int src, int dst, const char *where) {
    DIR *d = fdopendir(dup(src));
    if (!d) fail_errno(125, "read %s", where);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        copy_entry(src, dst, e->d_name, where);
    }
    closedir(d);
}

static int dir_is_empty(int fd) {
    DIR *d = fdopendir(dup(fd));
    if (!d) return 0;
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) { empty = 0; break; }
    closedir(d);
    return empty;
}

void op_copyup(int rootfd, const char *target, const char *hostdir) {
    int dst = open(hostdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dst < 0) fail_errno(125, "open volume directory %s", hostdir);
    if (!dir_is_empty(dst)) { close(dst); return; }
    int src = open_in_root(rootfd, target, O_RDONLY | O_DIRECTORY, 0);
    if (src < 0) {
        if (errno == ENOENT || errno == ENOTDIR) { close(dst); return; }
        fail_errno(125, "open %s in the image", target);
    }
    copy_tree(src, dst, target);
    struct stat st;
    if (fstat(src, &st) == 0) copy_meta(dst, &st);
    close(src);
    close(dst);
}
