/*
 * keep: the parent of a long-lived program that must not stay dead (the
 * network daemon), a small resident process instead of a second Node one.
 * It starts PROGRAM, waits for it, and when it dies any way but an exit 0
 * (a signal, a crash, a non-zero exit) starts it again; an exit 0 means the
 * program left on purpose (nothing left to serve), and so does the keeper.
 * The timings are TypeScript's (src/network/daemon/client.ts): a program
 * that ran at least QUICK_MS is started again at once; one that died sooner
 * waits BACKOFF_MIN_MS, doubling to BACKOFF_MAX_MS, and after MAX_QUICK such
 * deaths in a row the keeper gives up (exit 1), so a program that cannot
 * start is not started for ever. Each death and each decision is one line on
 * stderr (the program's log). SIGTERM, SIGINT and SIGHUP are passed on to the
 * program; after TERM or INT it is not started again.
 *
 *   tsc-helper keep QUICK_MS BACKOFF_MIN_MS BACKOFF_MAX_MS MAX_QUICK -- PROGRAM ARGS...
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t stopping;

static void pass_on(int sig) {
    if (sig != SIGHUP) stopping = 1;
    if (child_pid > 0) kill(child_pid, sig);
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
    char line[512];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%SZ", &tm);
    n += snprintf(line + n, sizeof line - n, " [%d] keep: ", (int)getpid());
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
    line[n++] = '\n';
    write_all(2, line, (size_t)n);
}

/* Sleeps ms, cut short by a signal that asks us to stop. */
static void nap(long long ms) {
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (!stopping && nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

static long long number(const char *s, const char *what) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s == 0 || *end != 0 || v < 0) {
        fprintf(stderr, "tsc-helper keep: %s must be a number, not \"%s\"\n", what, s);
        exit(2);
    }
    return v;
}

int keep_main(int argc, char **argv) {
    if (argc < 8 || strcmp(argv[6], "--") != 0) {
        fprintf(stderr, "usage: tsc-helper keep QUICK_MS BACKOFF_MIN_MS BACKOFF_MAX_MS MAX_QUICK -- PROGRAM ARGS...\n");
        return 2;
    }
    long long quick_ms = number(argv[2], "QUICK_MS"), min_ms = number(argv[3], "BACKOFF_MIN_MS");
    long long max_ms = number(argv[4], "BACKOFF_MAX_MS"), max_quick = number(argv[5], "MAX_QUICK");
    char **prog = argv + 7;
    prctl(PR_SET_NAME, "tsc-keep", 0, 0, 0);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = pass_on;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    long long quick = 0, delay = 0;
    for (;;) {
        long long started = now_ms();
        pid_t pid = fork();
        if (pid < 0) {
            say("cannot fork: %s", strerror(errno));
            return 1;
        }
        if (pid == 0) {
            signal(SIGTERM, SIG_DFL);
            signal(SIGINT, SIG_DFL);
            signal(SIGHUP, SIG_DFL);
            execv(prog[0], prog);
            say("cannot run %s: %s", prog[0], strerror(errno));
            _exit(127);
        }
        child_pid = pid;
        if (stopping) kill(pid, SIGTERM); /* asked to stop while we forked */
        int status;
        while (waitpid(pid, &status, 0) < 0) {
            if (errno != EINTR) {
                say("waiting for %d: %s", (int)pid, strerror(errno));
                return 1;
            }
        }
        child_pid = 0;
        long long ran = now_ms() - started;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0; /* it left on purpose */
        char how[64];
        if (WIFSIGNALED(status)) snprintf(how, sizeof how, "was killed by signal %d", WTERMSIG(status));
        else snprintf(how, sizeof how, "exited with %d", WEXITSTATUS(status));
        if (stopping) {
            say("%s (pid %d) %s; asked to stop, not starting it again", prog[0], (int)pid, how);
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (ran >= quick_ms) {
            quick = 0;
            delay = 0;
        } else {
            quick++;
            delay = delay ? (delay * 2 > max_ms ? max_ms : delay * 2) : min_ms;
        }
        if (quick >= max_quick) {
            say("%s (pid %d) %s after %lld ms, the %lld%s time in a row within %lld ms of its start: giving up", prog[0], (int)pid, how, ran,
                quick, quick == 1 ? "st" : quick == 2 ? "nd" : quick == 3 ? "rd" : "th", quick_ms);
            return 1;
        }
        say("%s (pid %d) %s after %lld ms; starting it again in %lld ms", prog[0], (int)pid, how, ran, delay);
        if (delay) nap(delay);
        if (stopping) return 0;
    }
}
