/*
 * `tsc-helper cp CONF`: copy files out of or into a container. The copy runs
 * with its root at the container's: inside its mount namespace when it runs
 * (through a pidfd), else in a private namespace with its root filesystem and
 * volumes mounted. Path resolution therefore never leaves the container, even
 * while it swaps symlinks under us (CVE-2018-15664); the host side of the
 * copy is Node's.
 *
 * Stream (stdout for "out", stdin for "in"): one header line per entry,
 * "<f|d|l> <mode octal> <uid> <gid> <mtime> <size> <name> <link>" with escaped
 * fields, then <size> bytes for a file; "end" closes it.
 * Modes: "stat" prints "<f|d|l|none> ..." for `path`; "out" streams `path`
 * (the top entry named as its last component); "in" writes entries under `dest`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper.h"

static void put_field(FILE *out, const char *s) {
    if (!*s) { fputs(" \\e", out); return; }
    fputc(' ', out);
    for (; *s; s++) {
        if (*s == '\\') fputs("\\\\", out);
        else if (*s == ' ') fputs("\\s", out);
        else if (*s == '\n') fputs("\\n", out);
        else if (*s == '\t') fputs("\\t", out);
        else fputc(*s, out);
    }
}

static void header(FILE *out, char type, const struct stat *st, long long size, const char *name, const char *link) {
    fprintf(out, "%c %o %u %u %lld %lld", type, st->st_mode & 07777, st->st_uid, st->st_gid, (long long)st->st_mtim.tv_sec, size);
    put_field(out, name);
    put_field(out, link);
    fputc('\n', out);
}

/* With one_fs (export), the device of the root: a mount point of another filesystem is kept, its content left out. */
static int g_one_fs;
static dev_t g_root_dev;

static void emit(FILE *out, const char *path, const char *name) {
    struct stat st;
    if (lstat(path, &st) < 0) fail_errno(1, "Could not find the file %s in container", path);
    if (g_one_fs && st.st_dev != g_root_dev && !S_ISLNK(st.st_mode)) {
        header(out, S_ISDIR(st.st_mode) ? 'd' : 'f', &st, 0, name, "");
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        header(out, 'd', &st, 0, name, "");
        DIR *d = opendir(path);
        if (!d) fail_errno(1, "read %s", path);
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[PATH_MAX], subname[PATH_MAX];
            snprintf(sub, sizeof sub, "%s/%s", strcmp(path, "/") ? path : "", e->d_name);
            snprintf(subname, sizeof subname, "%s/%s", name, e->d_name);
            emit(out, sub, subname);
        }
        closedir(d);
    } else if (S_ISREG(st.st_mode)) {
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) fail_errno(1, "open %s", path);
        header(out, 'f', &st, st.st_size, name, "");
        /* Exactly the size announced: a file that shrinks meanwhile is padded, one that grows is cut. */
        char buf[65536];
        long long left = st.st_size;
        while (left > 0) {
            ssize_t r = read(fd, buf, left < (long long)sizeof buf ? (size_t)left : sizeof buf);
            if (r <= 0) { memset(buf, 0, sizeof buf); r = left < (long long)sizeof buf ? left : (long long)sizeof buf; }
            fwrite(buf, 1, (size_t)r, out);
            left -= r;
        }
        close(fd);
    } else if (S_ISLNK(st.st_mode)) {
        char link[PATH_MAX];
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n < 0) fail_errno(1, "readlink %s", path);
        link[n] = 0;
        header(out, 'l', &st, 0, name, link);
    }
    /* Devices, fifos and sockets are not copied. */
}

/* A buffered reader over stdin: header lines and file bytes share the stream. */
static char rbuf[65536];
static size_t rpos, rlen;

static int fill(void) {
    if (rpos < rlen) return 1;
    ssize_t r = read(0, rbuf, sizeof rbuf);
    if (r <= 0) return 0;
    rpos = 0;
    rlen = (size_t)r;
    return 1;
}

static int read_line(char *line, size_t cap) {
    size_t n = 0;
    while (fill()) {
        char c = rbuf[rpos++];
        if (c == '\n') { line[n] = 0; return 1; }
        if (n + 1 < cap) line[n++] = c;
    }
    return 0;
}

static void copy_in(int fd, long long size, const char *name) {
    while (size > 0) {
        if (!fill()) fail(1, "copy into the container: the stream ended inside %s", name);
        size_t take = rlen - rpos < (size_t)size ? rlen - rpos : (size_t)size;
        if (fd >= 0 && write_all(fd, rbuf + rpos, take) < 0) fail_errno(1, "write %s", name);
        rpos += take;
        size -= (long long)take;
    }
}

/* Names come from Node: relative, no "..", checked anyway. */
static int safe_name(const char *name) {
    if (!*name || name[0] == '/') return 0;
    for (const char *p = name; *p;) {
        const char *end = strchrnul(p, '/');
        if ((end - p == 2 && p[0] == '.' && p[1] == '.') || end == p) return 0;
        p = *end ? end + 1 : end;
    }
    return 1;
}

/* Docker's extraction makes the missing directories above an entry (0755, root's), so that a tar of
   deep paths alone can be put at "/" (develop.watch's sync); existing ones are left as they are. */
static void make_parents(char *path) {
    for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = 0;
        int made = mkdir(path, 0755);
        *p = '/';
        if (made < 0 && errno != EEXIST) fail_errno(1, "mkdir the parents of %s", path);
    }
}

static void receive(const char *dest, int keep_owner) {
    char line[3 * PATH_MAX];
    while (read_line(line, sizeof line)) {
        if (strcmp(line, "end") == 0) return;
        char *f[8];
        int n = 0;
        for (char *save = NULL, *t = strtok_r(line, " ", &save); t && n < 8; t = strtok_r(NULL, " ", &save)) f[n++] = t;
        if (n < 8) fail(125, "helper: malformed copy header");
        char name[PATH_MAX], link[PATH_MAX];
        snprintf(name, sizeof name, "%s", f[6]);
        snprintf(link, sizeof link, "%s", f[7]);
        unescape_field(name);
        unescape_field(link);
        mode_t mode = (mode_t)strtoul(f[1], NULL, 8);
        uid_t uid = keep_owner ? (uid_t)strtoul(f[2], NULL, 10) : 0;
        gid_t gid = keep_owner ? (gid_t)strtoul(f[3], NULL, 10) : 0;
        struct timespec times[2] = { { strtoll(f[4], NULL, 10), 0 }, { strtoll(f[4], NULL, 10), 0 } };
        long long size = strtoll(f[5], NULL, 10);
        if (!safe_name(name)) fail(1, "copy into the container: refusing the name \"%s\"", name);
        char path[2 * PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", strcmp(dest, "/") ? dest : "", name) >= PATH_MAX) fail(1, "path too long: %s", name);
        if (strchr(name, '/')) make_parents(path);
        struct stat old;
        int exists = lstat(path, &old) == 0;
        if (f[0][0] == 'd') {
            if (exists && !S_ISDIR(old.st_mode)) fail(1, "cannot overwrite non-directory %s with a directory", path);
            if (!exists && mkdir(path, 0700) < 0) fail_errno(1, "mkdir %s", path);
            if (lchown(path, uid, gid) < 0 || chmod(path, mode) < 0) fail_errno(1, "set the owner of %s", path);
            utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW);
            continue;
        }
        if (exists && S_ISDIR(old.st_mode)) fail(1, "cannot overwrite directory %s with a non-directory", path);
        if (exists && unlink(path) < 0) fail_errno(1, "replace %s", path);
        if (f[0][0] == 'l') {
            if (symlink(link, path) < 0) fail_errno(1, "symlink %s", path);
            if (lchown(path, uid, gid) < 0) fail_errno(1, "set the owner of %s", path);
            continue;
        }
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) fail_errno(1, "create %s", path);
        copy_in(fd, size, path);
        if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0) fail_errno(1, "set the owner of %s", path);
        futimens(fd, times);
        close(fd);
    }
    fail(1, "copy into the container: the stream ended early");
}

/* Enter the container's filesystem: its mount namespace if it runs, else a private mount of it. */
static void enter(const struct conf *c) {
    if (conf_get(c, K_PID)) {
        int pidfd = container_pidfd(c);
        if (setns(pidfd, CLONE_NEWNS) < 0) fail_errno(125, "join the container's mount namespace");
        close(pidfd);
        return;
    }
    if (unshare(CLONE_NEWNS) < 0) fail_errno(125, "new mount namespace");
    int rootfd = rootfs_prepare(c, NULL, NULL);
    if (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0) fail_errno(125, "enter the container's root");
    close(rootfd);
}

int cp_main(int argc, char **argv) {
    if (argc < 3) fail(125, "usage: tsc-helper cp CONFIG");
    g_errfd = 3;
    struct conf c;
    if (conf_load(&c, argv[2]) < 0) fail_errno(125, "read %s", argv[2]);
    const char *mode = conf_get(&c, K_MODE);
    if (!mode) fail(125, "helper: no copy mode");
    enter(&c);
    if (strcmp(mode, CP_STAT) == 0) {
        struct stat st;
        const char *path = conf_get(&c, K_PATH);
        char type = 'n';
        if (path && lstat(path, &st) == 0) type = S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l' : 'f';
        if (type == 'l') {
            struct stat t;
            if (stat(path, &t) == 0 && S_ISDIR(t.st_mode)) type = 'D'; /* a symlink to a directory */
        }
        dprintf(3, "ok %c\n", type);
    } else if (strcmp(mode, CP_OUT) == 0) {
        const char *path = conf_get(&c, K_PATH);
        const char *name = conf_get(&c, K_NAME);
        if (!path || !name) fail(125, "helper: copy out needs path and name");
        FILE *out = fdopen(1, "w");
        struct stat root;
        g_one_fs = conf_num(&c, K_ONE_FS, 0) != 0;
        if (g_one_fs && lstat("/", &root) == 0) g_root_dev = root.st_dev;
        emit(out, path, name);
        fputs("end\n", out);
        if (fflush(out) != 0) fail_errno(1, "write the copy stream");
        dprintf(3, "ok\n");
    } else if (strcmp(mode, CP_IN) == 0) {
        const char *dest = conf_get(&c, K_DEST);
        if (!dest) fail(125, "helper: copy in needs dest");
        struct stat st;
        if (stat(dest, &st) < 0 || !S_ISDIR(st.st_mode)) fail(1, "destination directory %s does not exist in the container", dest);
        receive(dest, conf_num(&c, K_ARCHIVE, 0) != 0);
        dprintf(3, "ok\n");
    } else {
        fail(125, "helper: unknown copy mode %s", mode);
    }
    return 0;
}
