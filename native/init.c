/*
 * tsc-init: a minimal init for `init: true`, as tini is for Docker. It runs as
 * the container's PID 1, starts the command as its child in its own process
 * group, passes every signal on to it, reaps every orphan that reparents to
 * it, and exits with the command's status (128+signal when it was killed).
 * Statically linked: the image may have no libc. Bound read-only into the
 * container, so a container cannot rewrite it.
 *
 * One function per duty; every system call's result is checked: a failure
 * before the command runs is reported and ends the init with 1 (the command
 * never starts half set up); in the loop, only what cannot happen ends it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What the init changes about signals, kept to give the child back what it inherited. */
struct signal_setup {
    sigset_t waited;              /* the signals the loop takes with sigtimedwait */
    sigset_t original_mask;
    struct sigaction original_ttin;
    struct sigaction original_ttou;
};

static void die(const char *what) {
    fprintf(stderr, "tsc-init: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* In the child, between fork and exec: exits with the status a failed exec would have. */
static void child_die(const char *what) {
    fprintf(stderr, "tsc-init: %s: %s\n", what, strerror(errno));
    _exit(126);
}

/*
 * Every signal waits for the loop (sigtimedwait), to be passed on, except
 * those the kernel raises for a fault of this very process, which must keep
 * their default action, and SIGTTIN/SIGTTOU: the command's group becomes the
 * terminal's foreground group, so the init is in the background of its own
 * terminal, where touching it would stop the init (and a stopped PID 1 reaps
 * nothing). tini ignores both; so does this init. The child gets the
 * original mask and dispositions back before its exec.
 */
static void setup_signals(struct signal_setup *s) {
    static const int own[] = { SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS, SIGTTIN, SIGTTOU };
    if (sigfillset(&s->waited) < 0) die("sigfillset");
    for (size_t i = 0; i < sizeof own / sizeof *own; i++)
        if (sigdelset(&s->waited, own[i]) < 0) die("sigdelset");
    if (sigprocmask(SIG_SETMASK, &s->waited, &s->original_mask) < 0) die("sigprocmask");

    struct sigaction ignore;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    if (sigemptyset(&ignore.sa_mask) < 0) die("sigemptyset");
    if (sigaction(SIGTTIN, &ignore, &s->original_ttin) < 0) die("ignore SIGTTIN");
    if (sigaction(SIGTTOU, &ignore, &s->original_ttou) < 0) die("ignore SIGTTOU");
}

/* Outside a PID namespace of its own, orphans reparent to the nearest subreaper: be it. */
static void become_subreaper(void) {
    if (getpid() == 1) return;
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        fprintf(stderr, "tsc-init: not PID 1 and cannot be a subreaper (%s): orphans will not be reaped\n", strerror(errno));
}

/*
 * The child in a process group of its own, the terminal's foreground group
 * when stdin is a terminal (so ^C reaches the command, not the init): no
 * terminal (ENOTTY, ENXIO) is fine, anything else is not. SIGTTOU is still
 * ignored here, so a background tcsetpgrp does not stop the child.
 */
static void isolate_child(void) {
    if (setpgid(0, 0) < 0) child_die("setpgid");
    if (tcsetpgrp(STDIN_FILENO, getpgrp()) < 0 && errno != ENOTTY && errno != ENXIO) child_die("tcsetpgrp");
}

static void restore_signals(const struct signal_setup *s) {
    if (sigprocmask(SIG_SETMASK, &s->original_mask, NULL) < 0) child_die("sigprocmask");
    if (sigaction(SIGTTIN, &s->original_ttin, NULL) < 0) child_die("restore SIGTTIN");
    if (sigaction(SIGTTOU, &s->original_ttou, NULL) < 0) child_die("restore SIGTTOU");
}

static pid_t spawn_command(char **argv, const struct signal_setup *s) {
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child > 0) return child;
    isolate_child();
    restore_signals(s);
    execvp(argv[0], argv);
    int err = errno;
    fprintf(stderr, "tsc-init: exec %s failed: %s\n", argv[0], strerror(err));
    _exit(err == ENOENT ? 127 : 126);
}

/* Passes a signal that arrived within a second on to the command; SIGCHLD is the reaper's. */
static void forward_signal(pid_t child, const sigset_t *waited) {
    struct timespec second = { 1, 0 };
    siginfo_t info;
    int sig = sigtimedwait(waited, &info, &second);
    if (sig < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        die("sigtimedwait");
    }
    /* ESRCH: the command is gone and its exit is the reaper's news. */
    if (sig != SIGCHLD && kill(child, sig) < 0 && errno != ESRCH) die("kill");
}

/* Reaps every exited process; true, with its status, once the command is among them. */
static int reap(pid_t child, int *status) {
    for (;;) {
        int st;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        if (pid == 0) return 0;
        if (pid < 0) {
            if (errno == EINTR) continue;
            if (errno == ECHILD) return 0;
            die("waitpid");
        }
        if (pid == child) {
            *status = st;
            return 1;
        }
    }
}

static int exit_code(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
    int first = argc > 1 && strcmp(argv[1], "--") == 0 ? 2 : 1;
    if (first >= argc) {
        fprintf(stderr, "usage: %s [--] COMMAND [ARG...]\n", argv[0]);
        return 2;
    }
    struct signal_setup signals;
    setup_signals(&signals);
    become_subreaper();
    pid_t child = spawn_command(argv + first, &signals);
    int status;
    for (;;) {
        forward_signal(child, &signals.waited);
        if (reap(child, &status)) return exit_code(status);
    }
}
