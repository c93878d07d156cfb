/*
 * `tsc-helper start CONF`: start a container. Node spawns this once per
 * start; it forks the monitor (which outlives the CLI) and the monitor clones
 * the container's PID 1 into its new namespaces. The outcome goes back on fd 3
 * as one line: "ok <pid> <monitor pid>" or "error <code> <message>".
 * With `attach 1` this process stays, relaying the CLI's terminal to the
 * container through the monitor, and ends with the container's exit code.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

extern char **g_argv;
extern int g_argc;

int g_ipc_owner = -1;

/* Shown by ps: the monitor's argv is rewritten in place to "tsc-monitor <id>". */
static void rename_monitor(const char *id) {
    prctl(PR_SET_NAME, "tsc-monitor", 0, 0, 0);
    char *start = g_argv[0];
    char *end = g_argv[g_argc - 1] + strlen(g_argv[g_argc - 1]);
    size_t room = (size_t)(end - start);
    memset(start, 0, room);
    snprintf(start, room, "tsc-monitor %.12s", id ? id : "");
}

static void send_fd(int sock, char tag, int fd) {
    char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
    struct iovec iov = { &tag, 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    if (sendmsg(sock, &msg, 0) < 0) fail_errno(125, "pass the console to the monitor");
}

/* A new network namespace has a loopback device, but down; Docker's containers find it up. */
static void loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr = { 0 };
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail_errno(125, "read the loopback device's flags");
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail_errno(125, "bring the loopback device up");
    close(s);
}

struct child_fds { int sync, out_w, err_w, in_r, helper; };

/* PID 1 of the new namespaces, until it execs the container's command. */
static noreturn void container_init(const struct conf *c, struct child_fds *f) {
    g_errfd = f->sync;
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    /* Nothing in the container may open our /proc entries while we still hold host resources. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    close(3); /* the status pipe to Node is the monitor's */
    /* The monitor ignores most signals; the container must start with none ignored or blocked. */
    for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    const char *netns = conf_get(c, K_NETNS);
    if (netns) {
        int fd = open(netns, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) fail_errno(125, "join network namespace %s", netns);
        close(fd);
    }
    if (conf_num(c, K_LO_UP, 0)) loopback_up();
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->lines[i].key, K_CGROUP) == 0 && c->lines[i].n && write_file(c->lines[i].arg[0], "0") < 0)
            fail_errno(125, "join cgroup %s", c->lines[i].arg[0]);
    if (conf_num(c, K_CGROUPNS, 0) && unshare(CLONE_NEWCGROUP) < 0) fail_errno(125, "new cgroup namespace");

    const char *host = conf_get(c, K_HOSTNAME);
    if (host && sethostname(host, strlen(host)) < 0) fail_errno(125, "sethostname");
    const char *domain = conf_get(c, K_DOMAINNAME);
    if (domain && setdomainname(domain, strlen(domain)) < 0) fail_errno(125, "setdomainname");

    umask(0);
    int master = -1, slave = -1;
    int rootfd = rootfs_prepare(c, &master, &slave);
    rootfs_pivot(rootfd);
    close(rootfd);

    if (conf_num(c, K_TTY, 0)) {
        if (slave < 0) fail(125, "helper: tty requested without a console op");
        send_fd(f->sync, 'T', master);
        close(master);
        if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) fail_errno(125, "make the console the controlling terminal");
        struct winsize ws = { (unsigned short)conf_num(c, K_ROWS, 24), (unsigned short)conf_num(c, K_COLS, 80), 0, 0 };
        ioctl(slave, TIOCSWINSZ, &ws);
        for (int fd = 0; fd < 3; fd++) if (dup2(slave, fd) < 0) fail_errno(125, "console stdio");
    } else {
        int in = f->in_r >= 0 ? f->in_r : open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (in < 0) fail_errno(125, "open /dev/null in the container");
        if (dup2(in, 0) < 0 || dup2(f->out_w, 1) < 0 || dup2(f->err_w, 2) < 0) fail_errno(125, "stdio");
    }
    process_exec(c, f->helper, f->sync);
}

/*
 * "<monitor pid> <start> <pid 1> <start>", as a symlink's target: a short
 * target lives in the inode (ext4, tmpfs), so neither writing it nor removing
 * it at the exit allocates or frees a block (each freed block is a discard on
 * a disk mounted with -o discard), and a full disk has room for it too.
 */
static void write_pidfile(const char *path, pid_t init) {
    char tmp[4096], text[128];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(text, sizeof text, "%d %llu %d %llu", (int)getpid(), proc_start_time(getpid()), (int)init, proc_start_time(init));
    unlink(tmp);
    if (symlink(text, tmp) < 0 || rename(tmp, path) < 0) fail_errno(125, "write %s", path);
}

/* Waits for the container's init to exec (EOF on the sync socket) or to report why it could not. */
static void await_exec(int sync, int *tty_master, char *err, size_t errsize) {
    size_t len = 0;
    err[0] = 0;
    for (;;) {
        char cbuf[CMSG_SPACE(sizeof(int))];
        char buf[1024];
        struct iovec iov = { buf, sizeof buf };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
        ssize_t n = recvmsg(sync, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) memcpy(tty_master, CMSG_DATA(cm), sizeof(int));
        char *p = buf;
        if (len == 0 && *tty_master >= 0 && n > 0 && buf[0] == 'T') { p++; n--; }
        if (len + n >= errsize) n = (ssize_t)(errsize - len - 1);
        memcpy(err + len, p, n);
        len += n;
        err[len] = 0;
    }
}

/*
 * pid/ipc: service:x or container:x: the monitor joins x's namespaces, so
 * that PID 1 is cloned into them (a pid namespace is entered only by the
 * children of whoever joins it); K_CLONE then leaves those out.
 */
static void join_shared(const struct conf *c) {
    for (int i = 0; i < c->n; i++) {
        const struct conf_line *l = &c->lines[i];
        if (strcmp(l->key, K_SHARE) != 0 || l->n < 3) continue;
        int pidfd = live_pidfd((pid_t)atoi(l->arg[1]), strtoull(l->arg[2], NULL, 10));
        if (pidfd < 0) fail(125, "the container whose namespaces this one shares is not running");
        int flags = (int)parse_hex(l->arg[0]);
        if (setns(pidfd, flags) < 0) fail_errno(125, "join the shared namespaces");
        if (flags & CLONE_NEWIPC) g_ipc_owner = pidfd;
        else close(pidfd);
    }
}

static noreturn void monitor_start(const struct conf *c, int attach) {
    setsid();
    rename_monitor(conf_get(c, K_ID));
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD) signal(s, SIG_IGN);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);

    int tty = conf_num(c, K_TTY, 0) != 0;
    int interactive = conf_num(c, K_STDIN, 0) != 0;
    int out[2] = { -1, -1 }, err[2] = { -1, -1 }, in[2] = { -1, -1 }, sync[2];
    if (!tty && (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)) fail_errno(125, "pipe");
    if (!tty && interactive && pipe2(in, O_CLOEXEC) < 0) fail_errno(125, "pipe");
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0) fail_errno(125, "socketpair");

    /* Made here, in the host's mount namespace: open_tree cannot clone a mount of another namespace. */
    int helper = sealed_self();
    join_shared(c);
    unsigned long flags = (unsigned long)parse_hex(conf_get(c, K_CLONE) ? conf_get(c, K_CLONE) : "0");
    pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, NULL, NULL, 0);
    if (pid < 0) fail_errno(125, "clone the container's namespaces");
    if (pid == 0) {
        close(sync[0]);
        if (attach >= 0) close(attach);
        struct child_fds f = { sync[1], out[1], err[1], in[0], helper };
        container_init(c, &f);
    }
    close(sync[1]);
    close(helper);
    if (g_ipc_owner >= 0) close(g_ipc_owner);
    if (!tty) { close(out[1]); close(err[1]); }
    if (in[0] >= 0) close(in[0]);

    int master = -1;
    char msg[1024];
    await_exec(sync[0], &master, msg, sizeof msg);
    close(sync[0]);
    if (strncmp(msg, "error", 5) == 0) {
        waitpid(pid, NULL, 0);
        write_all(3, msg, strlen(msg));
        _exit(1);
    }
    const char *pidfile = conf_get(c, K_PIDFILE);
    if (pidfile) write_pidfile(pidfile, pid);
    dprintf(3, "ok %d %d\n", (int)pid, (int)getpid());
    close(3);
    g_errfd = -1;
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; fd < 3; fd++) dup2(null, fd);
    close(null);

    struct monitor_io io = {
        .init = pid,
        .out_r = tty ? master : out[0],
        .err_r = tty ? -1 : err[0],
        .in_w = tty ? (interactive ? master : -1) : in[1],
        .tty = tty,
        .attach = attach,
    };
    monitor_run(c, &io);
}

int start_main(int argc, char **argv) {
    if (argc < 3) fail(125, "usage: tsc-helper start CONFIG");
    g_errfd = 3;
    struct conf c;
    if (conf_load(&c, argv[2]) < 0) fail_errno(125, "read %s", argv[2]);
    /* Before the monitor exists: a filter the kernel refuses fails the start with nothing running. */
    attach_device_filter(&c);
    int attached = conf_num(&c, K_ATTACH, 0) != 0;
    int sp[2] = { -1, -1 };
    if (attached && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) fail_errno(125, "socketpair");
    pid_t mon = fork();
    if (mon < 0) fail_errno(125, "fork the monitor");
    int resize = attached && conf_num(&c, K_RESIZE, 0) != 0 ? RESIZE_FD : -1;
    if (mon == 0) {
        if (attached) close(sp[0]);
        if (resize >= 0) close(resize);
        monitor_start(&c, sp[1]);
    }
    if (!attached) return 0;
    close(sp[1]);
    int code = relay_attached(sp[0], conf_num(&c, K_TTY, 0) != 0, conf_num(&c, K_STDIN, 0) != 0, resize);
    if (code >= 0) dprintf(3, "exit %d\n", code);
    return code >= 0 ? code : 125;
}
