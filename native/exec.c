/*
 * `tsc-helper exec CONF`: run a process in a running container. This process
 * joins the container's cgroup and namespaces (through a pidfd, so a reused
 * pid cannot be joined by mistake), forks the process that will run there,
 * and stays to relay a pty or wait for it. Fd 3 gets "ok <pid>", then
 * "exit <code>" (or "error <code> <message>").
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "helper.h"

static int wait_forwarding(pid_t child) {
    sigset_t set;
    sigemptyset(&set);
    int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD };
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) sigaddset(&set, sigs[i]);
    int status;
    for (;;) {
        if (waitpid(child, &status, WNOHANG) == child) break;
        siginfo_t si;
        if (sigwaitinfo(&set, &si) < 0) continue;
        if (si.si_signo != SIGCHLD) kill(child, si.si_signo);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int exec_main(int argc, char **argv) {
    if (argc < 3) fail(125, "usage: tsc-helper exec CONFIG");
    g_errfd = 3;
    struct conf c;
    if (conf_load(&c, argv[2]) < 0) fail_errno(125, "read %s", argv[2]);

    int pidfd = container_pidfd(&c);

    /* Block the signals we forward before anything else can deliver them. */
    sigset_t fwd;
    sigemptyset(&fwd);
    int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD, SIGWINCH };
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) sigaddset(&fwd, sigs[i]);
    sigprocmask(SIG_BLOCK, &fwd, NULL);

    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    int helper = sealed_self();
    for (int i = 0; i < c.n; i++)
        if (strcmp(c.lines[i].key, K_CGROUP) == 0 && c.lines[i].n && write_file(c.lines[i].arg[0], "0") < 0)
            fail_errno(125, "join cgroup %s", c.lines[i].arg[0]);
    int flags = (int)parse_hex(conf_get(&c, K_JOIN) ? conf_get(&c, K_JOIN) : "0");
    if (setns(pidfd, flags) < 0) fail_errno(125, "join the container's namespaces");
    close(pidfd);

    int tty = conf_num(&c, K_TTY, 0) != 0;
    int detach = conf_num(&c, K_DETACH, 0) != 0;
    int master = -1, slave = -1;
    if (tty) {
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        int unlock = 0;
        if (master < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0) fail_errno(125, "open a pty in the container");
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0) fail_errno(125, "open a pty in the container");
        struct winsize ws = { (unsigned short)conf_num(&c, K_ROWS, 24), (unsigned short)conf_num(&c, K_COLS, 80), 0, 0 };
        if (isatty(0)) copy_winsize(0, master); else ioctl(master, TIOCSWINSZ, &ws);
    }
    int resize = tty && conf_num(&c, K_RESIZE, 0) != 0 ? RESIZE_FD : -1;
    int errp[2];
    if (pipe2(errp, O_CLOEXEC) < 0) fail_errno(125, "pipe");
    pid_t child = fork();
    if (child < 0) fail_errno(125, "fork");
    if (child == 0) {
        close(errp[0]);
        g_errfd = errp[1];
        close(3);
        if (resize >= 0) close(resize); /* only when it is ours: otherwise that number may be any of our own fds */
        for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (tty) {
            if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) fail_errno(125, "set the controlling terminal");
            for (int fd = 0; fd < 3; fd++) dup2(slave, fd);
        } else if (detach) {
            int null = open("/dev/null", O_RDWR | O_CLOEXEC);
            for (int fd = 0; fd < 3; fd++) dup2(null, fd);
        }
        process_exec(&c, helper, errp[1]);
    }
    close(errp[1]);
    if (slave >= 0) close(slave);
    char msg[1024];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof msg - 1 && ((n = read(errp[0], msg + len, sizeof msg - 1 - len)) > 0 || (n < 0 && errno == EINTR)))
        if (n > 0) len += (size_t)n;
    msg[len] = 0;
    if (len > 0) {
        waitpid(child, NULL, 0);
        write_all(3, msg, len);
        return 1;
    }
    dprintf(3, "ok %d\n", (int)child);
    if (detach) return 0;
    int code = tty ? relay_pty(master, child, conf_num(&c, K_STDIN, 0) != 0, resize) : wait_forwarding(child);
    dprintf(3, "exit %d\n", code);
    return code;
}
