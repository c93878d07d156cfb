/* Config parsing, error reporting and small I/O helpers shared by every entry point. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "helper.h"

int g_errfd = -1;

/* Fields are escaped by TypeScript: "\\" backslash, "\s" space, "\n" newline, "\t" tab, "\e" alone = empty. */
char *unescape_field(char *s) {
    if (strcmp(s, "\\e") == 0) { s[0] = 0; return s; }
    char *r = s, *w = s;
    while (*r) {
        if (*r == '\\' && r[1]) {
            r++;
            switch (*r) {
            case 's': *w++ = ' '; break;
            case 'n': *w++ = '\n'; break;
            case 't': *w++ = '\t'; break;
            default: *w++ = *r; break;
            }
            r++;
        } else {
            *w++ = *r++;
        }
    }
    *w = 0;
    return s;
}

/* Reads the whole config, from a file or a pipe (the CLI hands exec and cp configs over on fd 4: no temp file to leak). */
int conf_load(struct conf *c, const char *path) {
    /* An inherited descriptor (Node's "pipe" is a socketpair, which cannot be opened again through /proc): read it as it is. */
    static const char inherited[] = "/proc/self/fd/";
    int fd;
    if (strncmp(path, inherited, sizeof inherited - 1) == 0) {
        fd = atoi(path + sizeof inherited - 1);
        if (fd < 3 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) { errno = EBADF; return -1; }
    } else {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) return -1;
    size_t size = 4096, off = 0;
    char *text = malloc(size);
    if (!text) { close(fd); return -1; }
    for (;;) {
        if (off + 1 >= size) {
            char *bigger = realloc(text, size * 2);
            if (!bigger) { free(text); close(fd); return -1; }
            text = bigger;
            size *= 2;
        }
        ssize_t r = read(fd, text + off, size - off - 1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { int e = errno; free(text); close(fd); errno = e; return -1; }
        if (r == 0) break;
        off += (size_t)r;
    }
    close(fd);
    text[off] = 0;

    int cap = 64;
    c->lines = calloc(cap, sizeof *c->lines);
    c->n = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (c->n == cap) {
            cap *= 2;
            c->lines = realloc(c->lines, cap * sizeof *c->lines);
        }
        struct conf_line *l = &c->lines[c->n];
        int fcap = 8;
        l->arg = calloc(fcap, sizeof(char *));
        l->n = 0;
        char *fsave = NULL;
        l->key = strtok_r(line, " ", &fsave);
        if (!l->key) continue;
        for (char *f = strtok_r(NULL, " ", &fsave); f; f = strtok_r(NULL, " ", &fsave)) {
            if (l->n + 1 >= fcap) {
                fcap *= 2;
                l->arg = realloc(l->arg, fcap * sizeof(char *));
            }
            l->arg[l->n++] = unescape_field(f);
        }
        l->arg[l->n] = NULL;
        c->n++;
    }
    return 0;
}

const char *conf_get(const struct conf *c, const char *key) {
    for (int i = c->n - 1; i >= 0; i--)
        if (strcmp(c->lines[i].key, key) == 0) return c->lines[i].n > 0 ? c->lines[i].arg[0] : "";
    return NULL;
}

long long conf_num(const struct conf *c, const char *key, long long dflt) {
    const char *v = conf_get(c, key);
    return v && *v ? strtoll(v, NULL, 10) : dflt;
}

unsigned long long parse_hex(const char *s) {
    return strtoull(s, NULL, 16);
}

unsigned char *hex_bytes(const char *hex, size_t unit, size_t *len) {
    size_t bytes = strlen(hex) / 2;
    if (!bytes || bytes % unit) return NULL;
    unsigned char *buf = malloc(bytes);
    if (!buf) fail(125, "helper: out of memory");
    for (size_t i = 0; i < bytes; i++) {
        char pair[3] = { hex[2 * i], hex[2 * i + 1], 0 };
        buf[i] = (unsigned char)strtoul(pair, NULL, 16);
    }
    *len = bytes;
    return buf;
}

static noreturn void vfail(int code, int err, const char *fmt, va_list ap) {
    char msg[1024];
    int n = snprintf(msg, sizeof msg, "error %d ", code);
    n += vsnprintf(msg + n, sizeof msg - n, fmt, ap);
    if (n >= (int)sizeof msg - 2) n = sizeof msg - 2;
    if (err) n += snprintf(msg + n, sizeof msg - n, ": %s", strerror(err));
    if (n >= (int)sizeof msg - 1) n = sizeof msg - 2;
    /* The protocol is line-based: a message never spans lines. */
    for (int i = 0; i < n; i++) if (msg[i] == '\n') msg[i] = ' ';
    msg[n++] = '\n';
    write_all(g_errfd >= 0 ? g_errfd : 2, msg, n);
    _exit(code);
}

noreturn void fail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(code, 0, fmt, ap);
}

noreturn void fail_errno(int code, const char *fmt, ...) {
    int err = errno;
    va_list ap;
    va_start(ap, fmt);
    vfail(code, err, fmt, ap);
}

int write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        p += w;
        len -= w;
    }
    return 0;
}

int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int r = write_all(fd, text, strlen(text));
    int err = errno;
    close(fd);
    errno = err;
    return r;
}

int read_small_file(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t r = read(fd, buf, size - 1);
    close(fd);
    if (r < 0) return -1;
    buf[r] = 0;
    return (int)r;
}

/* Field 22 of /proc/PID/stat: lets readers tell a live process from a reused pid. */
unsigned long long proc_start_time(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (read_small_file(path, buf, sizeof buf) < 0) return 0;
    char *p = strrchr(buf, ')');
    if (!p) return 0;
    p += 2; /* field 3 */
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p, ' ');
        if (p) p++;
    }
    return p ? strtoull(p, NULL, 10) : 0;
}

/* The pidfd of the container's PID 1 named by "pid <pid> <start time>", checked against its start time
 * after opening, so that a pid reused by another process is never joined. */
int container_pidfd(const struct conf *c) {
    pid_t pid = 0;
    unsigned long long expected = 0;
    for (int i = 0; i < c->n; i++) {
        if (strcmp(c->lines[i].key, K_PID) || c->lines[i].n < 1) continue;
        pid = (pid_t)atoi(c->lines[i].arg[0]);
        if (c->lines[i].n >= 2) expected = strtoull(c->lines[i].arg[1], NULL, 10);
    }
    if (pid <= 0) fail(125, "helper: no pid in the config");
    int pidfd = live_pidfd(pid, expected);
    if (pidfd < 0) fail(1, "container is not running");
    return pidfd;
}

/* A pidfd of PID if it is still the process that started at `start` (0: any), else -1. */
int live_pidfd(pid_t pid, unsigned long long start) {
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd >= 0 && start && proc_start_time(pid) != start) {
        close(pidfd);
        return -1;
    }
    return pidfd;
}
