/*
 * The monitor: parent of the container's PID 1 for its whole life, a small
 * resident process instead of a Node one. It writes every stdout/stderr line
 * to the log file in the CRI format ("<RFC3339Nano> <stream> <F|P> <line>",
 * P for a piece of a longer line), relays a foreground CLI's terminal, reaps
 * PID 1 and records its exit status atomically (write a temp file, rename).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

#define LINE_MAX_BYTES 16384
#define DRAIN_MS 2000

struct stream {
    int fd;
    const char *name;
    int frame;
    size_t len;
    char buf[LINE_MAX_BYTES];
};

static int logfd = -1;

/*
 * A full disk: the write that failed starts a back-off (100 ms, doubling to
 * 5 s) during which the output pipes are left unread, so the container blocks
 * on its writes, as Docker's default "blocking" log mode does, instead of the
 * monitor spinning on failing writes; what was read and could not be written
 * is counted, and said in the log once writing works again.
 */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
static long long backoff_ms, backoff_until; /* CLOCK_MONOTONIC ns */
static unsigned long long dropped;

static long long now_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int backing_off(void) {
    return backoff_until && now_ns(CLOCK_MONOTONIC) < backoff_until;
}

/* The log's cap (K_LOG_MAX_SIZE, K_LOG_MAX_FILE): rotated as Docker's json-file driver does, never past max-size. */
static const char *log_path;
static long long log_max_size, log_size;
static int log_max_file = 1;
/* K_LOG_COMPRESS: each rotated file is gzipped to LOG.1.gz by the host's gzip, in a child of ours
   (reaped by the main loop's waitpid), one at a time: a rotation waits for the previous compression,
   so that LOG.1 is LOG.1.gz before the files move up. Readers prefer LOG.N while both exist. */
static int log_compress;
static pid_t gzip_pid;

static void gzip_wait(void) {
    if (gzip_pid > 0) {
        int st;
        while (waitpid(gzip_pid, &st, 0) < 0 && errno == EINTR) {}
    }
    gzip_pid = 0;
}

static void gzip_start(const char *file) {
    pid_t pid = fork();
    if (pid == 0) {
        /* Nothing of the monitor's: not its blocked SIGCHLD, not its pipes, pty or attach socket. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int fd = 3; fd < 1024; fd++) close(fd);
        /* gzip -c into a temp name, renamed over LOG.N.gz, then LOG.N removed: a reader never sees a
           half-written LOG.N.gz under its final name. */
        execlp("sh", "sh", "-c", "gzip -c -- \"$1\" > \"$1.gz.tmp\" && mv -f -- \"$1.gz.tmp\" \"$1.gz\" && rm -f -- \"$1\"",
               "sh", file, (char *)NULL);
        _exit(127);
    }
    gzip_pid = pid > 0 ? pid : 0;
}

static void rotate_log(void) {
    if (log_max_file <= 1) {
        if (ftruncate(logfd, 0) == 0) log_size = 0;
        return;
    }
    char from[4096], to[4096];
    const char *gz = log_compress ? ".gz" : "";
    if (log_compress) gzip_wait();
    for (int i = log_max_file - 1; i >= 1; i--) {
        if (i == 1) snprintf(from, sizeof from, "%s", log_path);
        else snprintf(from, sizeof from, "%s.%d%s", log_path, i - 1, gz);
        snprintf(to, sizeof to, "%s.%d%s", log_path, i, i == 1 ? "" : gz);
        rename(from, to); /* ENOENT: not that many yet */
    }
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return; /* the old file, renamed, takes the lines meanwhile */
    close(logfd);
    logfd = fd;
    log_size = 0;
    if (log_compress) {
        snprintf(from, sizeof from, "%s.1", log_path);
        gzip_start(from);
    }
}

static int write_record(const char *stream, const char *data, size_t len, int partial) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char head[96];
    int n = snprintf(head, sizeof head, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ %s %c ", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec, stream, partial ? 'P' : 'F');
    struct iovec iov[3] = { { head, (size_t)n }, { (void *)data, len }, { "\n", 1 } };
    /* Rotated before a record that would take the file past its cap, so that no file is over max-size
       (Docker's json-file rotates after, and lets a file pass it by a record); a record bigger than the
       cap alone still goes whole into a file of its own. */
    long long record = n + (long long)len + 1;
    if (log_max_size > 0 && log_size > 0 && log_size + record > log_max_size) rotate_log();
    ssize_t w = writev(logfd, iov, 3);
    if (w < 0) return -1;
    log_size += w;
    if (log_max_size > 0 && log_size >= log_max_size) rotate_log();
    return 0;
}

static void log_record(const char *stream, const char *data, size_t len, int partial) {
    if (logfd < 0) return;
    /* After a full disk, the log may have been emptied by hand to make room: its size is counted
       again from the file, so that the next rotation comes at the cap, not at once. */
    struct stat st;
    if (dropped && !backing_off() && fstat(logfd, &st) == 0) log_size = st.st_size;
    /* A full disk loses log lines, never the container. */
    if (backing_off() || write_record(stream, data, len, partial) < 0) {
        dropped += len + !partial;
        if (!backing_off()) {
            backoff_ms = backoff_ms ? (backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff_ms * 2) : BACKOFF_MIN_MS;
            backoff_until = now_ns(CLOCK_MONOTONIC) + backoff_ms * 1000000LL;
        }
        return;
    }
    backoff_ms = 0;
    backoff_until = 0;
    if (dropped) {
        char note[160];
        int n = snprintf(note, sizeof note, "tscompose: %llu bytes of output were dropped: no space left for the log", dropped);
        if (write_record("stderr", note, (size_t)n, 0) == 0) dropped = 0;
    }
}

static void stream_input(struct stream *s, const char *data, size_t n) {
    while (n > 0) {
        size_t take = n < sizeof s->buf - s->len ? n : sizeof s->buf - s->len;
        memcpy(s->buf + s->len, data, take);
        s->len += take;
        data += take;
        n -= take;
        size_t start = 0;
        for (size_t i = 0; i < s->len; i++) {
            if (s->buf[i] != '\n') continue;
            log_record(s->name, s->buf + start, i - start, 0);
            start = i + 1;
        }
        memmove(s->buf, s->buf + start, s->len - start);
        s->len -= start;
        if (s->len == sizeof s->buf) {
            log_record(s->name, s->buf, s->len, 1);
            s->len = 0;
        }
    }
}

static void stream_close(struct stream *s) {
    if (s->len) log_record(s->name, s->buf, s->len, 1);
    s->len = 0;
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
}

static long long read_counter(const char *path, const char *key) {
    char buf[4096];
    if (!path || read_small_file(path, buf, sizeof buf) < 0) return -1;
    size_t klen = strlen(key);
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ') return strtoll(line + klen + 1, NULL, 10);
    return -1;
}

/*
 * The exit record, replaced atomically: a symlink whose target is the record
 * on one line. A target this short lives in the inode (ext4, tmpfs): no block
 * is allocated for it nor freed when the next start removes it (a freed block
 * is a discard on a disk mounted with -o discard), and a full disk has room
 * for it. No fsync: the rename is atomic, and a record lost to a power cut
 * reads as "exited, status unknown".
 */
static void write_exit(const char *path, int status, long long finished_ns, int oom) {
    if (!path) return;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    char line[256], tmp[4096];
    snprintf(line, sizeof line, "code %d signal %d finished %lld oom %d", code, sig, finished_ns, oom);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    if (symlink(line, tmp) < 0) return;
    rename(tmp, path);
}

/* One frame from the foreground relay: input, a window size, a signal, or the end of input. */
static int handle_attach(struct monitor_io *io) {
    char buf[65536];
    uint32_t len;
    int type = frame_recv(io->attach, buf, sizeof buf, &len);
    if (type < 0) {
        close(io->attach);
        io->attach = -1;
        /* The CLI is gone: like `docker run -i`, its end of stdin closes with it. */
        if (!io->tty && io->in_w >= 0) { close(io->in_w); io->in_w = -1; }
        return -1;
    }
    switch (type) {
    case FR_STDIN:
        if (io->in_w >= 0 && write_all(io->in_w, buf, len) < 0 && !io->tty) { close(io->in_w); io->in_w = -1; }
        break;
    case FR_STDIN_EOF:
        /* A terminal has no end of input to pass on; a pipe closes. */
        if (!io->tty && io->in_w >= 0) { close(io->in_w); io->in_w = -1; }
        break;
    case FR_RESIZE: {
        buf[len < sizeof buf ? len : sizeof buf - 1] = 0;
        struct winsize ws = { 0 };
        unsigned rows = 0, cols = 0;
        if (io->tty && sscanf(buf, "%u %u", &rows, &cols) == 2) {
            ws.ws_row = (unsigned short)rows;
            ws.ws_col = (unsigned short)cols;
            ioctl(io->out_r, TIOCSWINSZ, &ws);
        }
        break;
    }
    case FR_SIGNAL:
        buf[len < sizeof buf ? len : sizeof buf - 1] = 0;
        kill(io->init, atoi(buf));
        break;
    }
    return 0;
}

noreturn void monitor_run(const struct conf *c, struct monitor_io *io) {
    const char *logpath = conf_get(c, K_LOG);
    if (logpath) logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    log_path = logpath;
    log_max_size = conf_num(c, K_LOG_MAX_SIZE, 0);
    log_max_file = (int)conf_num(c, K_LOG_MAX_FILE, 1);
    log_compress = conf_num(c, K_LOG_COMPRESS, 0) == 1;
    struct stat lst;
    if (logfd >= 0 && fstat(logfd, &lst) == 0) log_size = lst.st_size;
    const char *oom_path = NULL, *oom_key = NULL;
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->lines[i].key, K_OOM) == 0 && c->lines[i].n >= 2) { oom_path = c->lines[i].arg[0]; oom_key = c->lines[i].arg[1]; }
    long long oom_before = read_counter(oom_path, oom_key);

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);

    static struct stream out, err;
    out.fd = io->out_r; out.name = "stdout"; out.frame = FR_STDOUT;
    err.fd = io->err_r; err.name = "stderr"; err.frame = FR_STDERR;
    struct stream *streams[2] = { &out, &err };

    int exited = 0, status = 0;
    long long finished = 0, drain_deadline = 0;
    for (;;) {
        if (exited && out.fd < 0 && err.fd < 0) break;
        /* While backing off, the pipes wait (the container blocks on them); after its exit they are drained regardless. */
        int paused = !exited && backing_off();
        struct pollfd p[4] = {
            { paused ? -1 : out.fd, POLLIN, 0 }, { paused ? -1 : err.fd, POLLIN, 0 }, { io->attach, POLLIN, 0 }, { exited ? -1 : sfd, POLLIN, 0 },
        };
        int timeout = -1;
        if (paused) timeout = (int)((backoff_until - now_ns(CLOCK_MONOTONIC)) / 1000000) + 1;
        if (exited) {
            long long left = (drain_deadline - now_ns(CLOCK_MONOTONIC)) / 1000000;
            if (left <= 0) break;
            timeout = (int)left;
        }
        int r = poll(p, 4, timeout);
        if (r < 0 && errno == EINTR) continue;
        if (r == 0 && exited) break;
        for (int i = 0; i < 2; i++) {
            struct stream *s = streams[i];
            if (s->fd < 0 || !p[i].revents) continue;
            char buf[65536];
            ssize_t n = read(s->fd, buf, sizeof buf);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n <= 0) {  /* EOF, or EIO from a pty whose last slave closed */
                if (io->tty && io->in_w == s->fd) io->in_w = -1;
                stream_close(s);
                continue;
            }
            stream_input(s, buf, (size_t)n);
            if (io->attach >= 0 && frame_send(io->attach, s->frame, buf, (uint32_t)n) < 0) {
                close(io->attach);
                io->attach = -1;
            }
        }
        if (io->attach >= 0 && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) handle_attach(io);
        if (!exited && (p[3].revents & POLLIN)) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0) {}
            int st;
            pid_t w;
            while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
                if (w == gzip_pid) gzip_pid = 0;
                if (w != io->init) continue;
                exited = 1;
                status = st;
                finished = now_ns(CLOCK_REALTIME);
                drain_deadline = now_ns(CLOCK_MONOTONIC) + DRAIN_MS * 1000000LL;
            }
        }
    }
    stream_close(&out);
    stream_close(&err);
    if (log_compress) gzip_wait(); /* the exit record comes after the last rotated file is complete */
    long long oom_after = read_counter(oom_path, oom_key);
    int oom = oom_before >= 0 && oom_after > oom_before;
    write_exit(conf_get(c, K_EXIT), status, finished, oom);
    const char *pidfile = conf_get(c, K_PIDFILE);
    if (pidfile) unlink(pidfile);
    if (io->attach >= 0) {
        char text[16];
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        int n = snprintf(text, sizeof text, "%d", code);
        frame_send(io->attach, FR_EXIT, text, (uint32_t)n);
    }
    _exit(0);
}
