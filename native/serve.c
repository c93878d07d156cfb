/*
 * `tsc-helper serve`: a resident parent for detached starts. Node spawns a
 * helper by forking itself: its page tables are copied, the parent then takes
 * copy-on-write faults, and the parent waits until the child has exec'd,
 * about 7 ms of a loaded 2-core machine's time per start. This process is
 * spawned once, and each start is a fork of it (a static binary of 1 MB)
 * that runs `start` exactly as `tsc-helper start` would.
 *
 * Requests on stdin, one after another: "<tag> <conf bytes>\n" then the
 * conf itself (the same text `start` reads). For each, a child gets
 * /dev/null as stdin, stdout and stderr, the conf on fd 4 (a memfd), the
 * server's sealed copy of the helper on fd 5 (made once: process.c), and on
 * fd 3 a pipe whose lines this process passes on to stdout as
 * "<tag> <line>"; once that pipe is at its end (the start's monitor closes
 * it after its reply) and the child is reaped: "<tag> done <exit code>".
 * Writes of a line are single write(2)s under PIPE_BUF: they do not mix.
 * The server ends when stdin does (Node is gone or done with it), and with
 * its parent (PR_SET_PDEATHSIG); starts under way finish either way.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

extern char **g_argv;

#define MAX_STARTS 256
#define LINE_MAX_LEN 2048

struct pending {
    unsigned long tag;
    pid_t pid;
    int fd;         /* the read end of the child's fd 3 */
    size_t len;
    char line[LINE_MAX_LEN];
};

static struct pending starts[MAX_STARTS];
static int nstarts;

static void emit(unsigned long tag, const char *text, size_t len) {
    char out[LINE_MAX_LEN + 32];
    int n = snprintf(out, sizeof out, "%lu %.*s\n", tag, (int)len, text);
    if (n > (int)sizeof out - 1) { n = (int)sizeof out - 1; out[n - 1] = '\n'; }
    if (write_all(1, out, (size_t)n) < 0) _exit(0); /* Node is gone */
}

/* The child: the same process `tsc-helper start /proc/self/fd/4` would be. */
static noreturn void run_start(int reply, int conf) {
    int null = open("/dev/null", O_RDWR);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) _exit(125);
    if (dup2(reply, 3) < 0 || dup2(conf, 4) < 0) _exit(125);
    if (g_sealed_self >= 0) {
        if (dup2(g_sealed_self, 5) < 0) _exit(125);
        g_sealed_self = 5;
    }
    /* Nothing else of the server's (its stdin and stdout, the other starts' pipes) stays open in the start and its monitor. */
    unsigned first = g_sealed_self >= 0 ? 6 : 5;
    if (syscall(SYS_close_range, first, ~0U, 0) < 0)
        for (unsigned fd = first; fd < 4096; fd++) close((int)fd);
    char *argv[] = { g_argv[0], CMD_START, "/proc/self/fd/4", NULL };
    exit(start_main(3, argv));
}

static void spawn_start(unsigned long tag, const char *conf, size_t len) {
    int p[2] = { -1, -1 };
    int mfd = (int)syscall(SYS_memfd_create, "tsc-start-conf", 1U /* MFD_CLOEXEC */);
    if (nstarts >= MAX_STARTS || mfd < 0 || write_all(mfd, conf, len) < 0 || lseek(mfd, 0, SEEK_SET) < 0 || pipe2(p, O_CLOEXEC) < 0) {
        char msg[128];
        int n = snprintf(msg, sizeof msg, "error 125 the start server cannot take the start: %s", nstarts >= MAX_STARTS ? "too many at once" : strerror(errno));
        emit(tag, msg, (size_t)n);
        emit(tag, "done 125", 8);
        if (mfd >= 0) close(mfd);
        if (p[0] >= 0) { close(p[0]); close(p[1]); }
        return;
    }
    pid_t pid = fork();
    if (pid == 0) run_start(p[1], mfd);
    close(p[1]);
    close(mfd);
    if (pid < 0) {
        emit(tag, "error 125 the start server cannot fork", 38);
        emit(tag, "done 125", 8);
        close(p[0]);
        return;
    }
    starts[nstarts++] = (struct pending){ .tag = tag, .pid = pid, .fd = p[0] };
}

/* Reply lines as they come; at the pipe's end, the child's exit code. */
static void relay(int i) {
    struct pending *s = &starts[i];
    char buf[4096];
    ssize_t n = read(s->fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    for (ssize_t k = 0; k < n; k++) {
        if (buf[k] == '\n' || s->len == sizeof s->line) {
            emit(s->tag, s->line, s->len);
            s->len = 0;
            if (buf[k] == '\n') continue;
        }
        s->line[s->len++] = buf[k];
    }
    if (n > 0) return;
    if (s->len) emit(s->tag, s->line, s->len);
    close(s->fd);
    int status = 0;
    while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR) {}
    char done[32];
    int len = snprintf(done, sizeof done, "done %d", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    emit(s->tag, done, (size_t)len);
    starts[i] = starts[--nstarts];
}

int serve_main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() == 1) return 0; /* the parent went before the line above */
    /* fds 3 and 4 are the children's: keep the server's own pipes above them. */
    for (int fd = 3; fd <= 4; fd++)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDONLY | O_CLOEXEC) != fd) return 125;
    /* Made here, once, in the host's mount namespace: the copy of the helper every container's PID 1 execs
       (process.c). Where it cannot be (no mount_setattr before 5.12), each start seals its own, as without the server. */
    int sealed = open_tree(AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (sealed >= 0 && mount_attrs(sealed, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0) == 0) g_sealed_self = sealed;
    else if (sealed >= 0) close(sealed);
    static char in[1 << 20];
    size_t have = 0;
    int open_in = 1;
    while (open_in || nstarts > 0) {
        struct pollfd p[MAX_STARTS + 1];
        p[0] = (struct pollfd){ open_in ? 0 : -1, POLLIN, 0 };
        for (int i = 0; i < nstarts; i++) p[i + 1] = (struct pollfd){ starts[i].fd, POLLIN, 0 };
        int r = poll(p, (nfds_t)nstarts + 1, -1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return 125;
        for (int i = nstarts - 1; i >= 0; i--)
            if (p[i + 1].revents) relay(i);
        if (!p[0].revents) continue;
        ssize_t n = read(0, in + have, sizeof in - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { open_in = 0; continue; }
        have += (size_t)n;
        /* Every complete request in the buffer: a header line, then that many bytes of conf. */
        for (;;) {
            char *nl = memchr(in, '\n', have);
            if (!nl) break;
            unsigned long tag = 0, len = 0;
            if (sscanf(in, "%lu %lu", &tag, &len) != 2 || len > sizeof in / 2) return 125;
            size_t head = (size_t)(nl - in) + 1;
            if (have < head + len) break;
            spawn_start(tag, in + head, len);
            memmove(in, in + head + len, have - head - len);
            have -= head + len;
        }
        if (have == sizeof in) return 125; /* a header that never ends */
    }
    return 0;
}
