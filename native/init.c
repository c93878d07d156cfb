/*
 * tsc-init: a minimal init for `init: true`, as tini is for Docker. It runs as
 * the container's PID 1, starts the command as its child in its own process
 * group, passes every signal on to it, reaps every orphan that reparents to
 * it, and exits with the command's status (128+signal when it was killed).
 * Statically linked: the image may have no libc. Bound read-only into the
 * container, so a container cannot rewrite it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "--") == 0) first = 2;
    if (first >= argc) {
        fprintf(stderr, "usage: %s [--] COMMAND [ARG...]\n", argv[0]);
        return 2;
    }
    /* Everything but the signals the kernel raises synchronously waits for sigtimedwait. */
    sigset_t all, orig;
    sigfillset(&all);
    int sync_sigs[] = { SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS, SIGTTIN, SIGTTOU };
    for (size_t i = 0; i < sizeof sync_sigs / sizeof *sync_sigs; i++) sigdelset(&all, sync_sigs[i]);
    sigprocmask(SIG_SETMASK, &all, &orig);
    if (getpid() != 1) prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

    pid_t child = fork();
    if (child < 0) {
        perror("tsc-init: fork");
        return 1;
    }
    if (child == 0) {
        setpgid(0, 0);
        if (isatty(0)) {
            /* Become the terminal's foreground group, so ^C reaches the command. */
            signal(SIGTTOU, SIG_IGN);
            tcsetpgrp(0, getpid());
            signal(SIGTTOU, SIG_DFL);
        }
        sigprocmask(SIG_SETMASK, &orig, NULL);
        execvp(argv[first], argv + first);
        int err = errno;
        fprintf(stderr, "tsc-init: exec %s failed: %s\n", argv[first], strerror(err));
        _exit(err == ENOENT ? 127 : 126);
    }
    for (;;) {
        struct timespec second = { 1, 0 };
        siginfo_t si;
        int sig = sigtimedwait(&all, &si, &second);
        if (sig > 0 && sig != SIGCHLD) kill(child, sig);
        int status;
        pid_t w;
        while ((w = waitpid(-1, &status, WNOHANG)) > 0)
            if (w == child) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
}
