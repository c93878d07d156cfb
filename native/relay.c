/*
 * A foreground CLI's terminal, relayed to a container: raw mode while it runs,
 * window-size changes, signals passed on, and the exit code at the end. Used
 * by `start` with attach (through the monitor, in frames) and by `exec -t`
 * (straight to the pty master it holds).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "helper.h"

int frame_send(int fd, int type, const void *data, uint32_t len) {
    unsigned char head[5] = { (unsigned char)type };
    uint32_t be = htonl(len);
    memcpy(head + 1, &be, 4);
    if (write_all(fd, head, 5) < 0) return -1;
    return len ? write_all(fd, data, len) : 0;
}

static int read_exact(int fd, void *buf, size_t len) {
    char *p = buf;
    while (len > 0) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

int frame_recv(int fd, char *buf, uint32_t cap, uint32_t *len) {
    unsigned char head[5];
    if (read_exact(fd, head, 5) < 0) return -1;
    uint32_t be;
    memcpy(&be, head + 1, 4);
    *len = ntohl(be);
    if (*len > cap) return -1;
    if (*len && read_exact(fd, buf, *len) < 0) return -1;
    return head[0];
}

static struct termios saved;
static int saved_fd = -1;

void tty_raw(int fd) {
    if (!isatty(fd) || tcgetattr(fd, &saved) < 0) return;
    struct termios raw = saved;
    cfmakeraw(&raw);
    /* Keep output post-processing off too; the container's pty does its own. */
    if (tcsetattr(fd, TCSADRAIN, &raw) == 0) saved_fd = fd;
}

void tty_restore(void) {
    if (saved_fd >= 0) tcsetattr(saved_fd, TCSADRAIN, &saved);
    saved_fd = -1;
}

void copy_winsize(int from_fd, int to_master) {
    struct winsize ws;
    if (ioctl(from_fd, TIOCGWINSZ, &ws) == 0) ioctl(to_master, TIOCSWINSZ, &ws);
}

static int relay_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    int sigs[] = { SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD };
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) sigaddset(&set, sigs[i]);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/*
 * Window sizes from the resize channel (K_RESIZE): "ROWS COLS\n" lines,
 * written by TypeScript for a terminal that is not ours (an API client's).
 * Returns 1 with the last complete size read, 0 when none was complete yet,
 * -1 when the channel ended.
 */
static char size_buf[128];
static size_t size_len;

static int read_size(int fd, struct winsize *ws) {
    ssize_t n = read(fd, size_buf + size_len, sizeof size_buf - 1 - size_len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
    if (n <= 0) return -1;
    size_len += (size_t)n;
    size_buf[size_len] = 0;
    int got = 0;
    char *line = size_buf, *nl;
    while ((nl = strchr(line, '\n')) != NULL) {
        *nl = 0;
        unsigned rows = 0, cols = 0;
        if (sscanf(line, "%u %u", &rows, &cols) == 2) {
            ws->ws_row = (unsigned short)rows;
            ws->ws_col = (unsigned short)cols;
            got = 1;
        }
        line = nl + 1;
    }
    size_len = strlen(line);
    memmove(size_buf, line, size_len);
    /* A line longer than the buffer is garbage: dropped. */
    if (size_len >= sizeof size_buf - 1) size_len = 0;
    return got;
}

/* `start` in the foreground: the terminal on one side, the monitor's frames on the other. */
int relay_attached(int sock, int tty, int interactive, int resize_fd) {
    int sfd = relay_signals();
    /* Raw only when we read the terminal (-it): with -t alone, ^C must stay a signal we pass on. */
    if (tty && interactive) tty_raw(0);
    int in_open = interactive;
    int code = -1;
    char buf[65536];
    for (;;) {
        struct pollfd p[4] = { { in_open ? 0 : -1, POLLIN, 0 }, { sock, POLLIN, 0 }, { sfd, POLLIN, 0 }, { resize_fd, POLLIN, 0 } };
        if (poll(p, 4, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (p[0].revents) {
            ssize_t n = read(0, buf, sizeof buf);
            if (n > 0) frame_send(sock, FR_STDIN, buf, (uint32_t)n);
            else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                frame_send(sock, FR_STDIN_EOF, NULL, 0);
                in_open = 0;
            }
        }
        if (p[1].revents) {
            uint32_t len;
            int type = frame_recv(sock, buf, sizeof buf, &len);
            if (type < 0) break;
            if (type == FR_STDOUT) write_all(1, buf, len);
            else if (type == FR_STDERR) write_all(2, buf, len);
            else if (type == FR_EXIT) {
                buf[len < sizeof buf ? len : sizeof buf - 1] = 0;
                code = atoi(buf);
                break;
            }
        }
        if (p[2].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGWINCH) {
                    struct winsize ws;
                    if (ioctl(0, TIOCGWINSZ, &ws) == 0 || ioctl(1, TIOCGWINSZ, &ws) == 0) {
                        int n = snprintf(buf, sizeof buf, "%u %u", ws.ws_row, ws.ws_col);
                        frame_send(sock, FR_RESIZE, buf, (uint32_t)n);
                    }
                } else if (si.ssi_signo != SIGCHLD) {
                    int n = snprintf(buf, sizeof buf, "%u", si.ssi_signo);
                    frame_send(sock, FR_SIGNAL, buf, (uint32_t)n);
                }
            }
        }
        if (p[3].revents) {
            struct winsize ws;
            int got = read_size(resize_fd, &ws);
            if (got < 0) resize_fd = -1;
            else if (got && tty) {
                int n = snprintf(buf, sizeof buf, "%u %u", ws.ws_row, ws.ws_col);
                frame_send(sock, FR_RESIZE, buf, (uint32_t)n);
            }
        }
    }
    tty_restore();
    return code;
}

/* `exec -t`: this process holds the pty master; the child runs in the container. */
int relay_pty(int master, pid_t child, int interactive, int resize_fd) {
    int sfd = relay_signals();
    if (interactive) tty_raw(0);
    copy_winsize(0, master);
    int in_open = interactive, master_open = 1, exited = 0, status = 0;
    char buf[65536];
    while (!(exited && !master_open)) {
        struct pollfd p[4] = {
            { in_open ? 0 : -1, POLLIN, 0 }, { master_open ? master : -1, POLLIN, 0 }, { exited ? -1 : sfd, POLLIN, 0 },
            { exited ? -1 : resize_fd, POLLIN, 0 },
        };
        /* After the child exits, drain what its pty still holds, briefly: a grandchild may keep it open. */
        int r = poll(p, 4, exited ? 200 : -1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (p[0].revents) {
            ssize_t n = read(0, buf, sizeof buf);
            if (n > 0) write_all(master, buf, (size_t)n);
            else if (n == 0 || errno != EINTR) in_open = 0;
        }
        if (p[1].revents) {
            ssize_t n = read(master, buf, sizeof buf);
            if (n > 0) write_all(1, buf, (size_t)n);
            else if (n == 0 || errno != EINTR) master_open = 0; /* EIO: the last slave closed */
        }
        if (p[2].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGWINCH) copy_winsize(0, master);
                else if (si.ssi_signo != SIGCHLD) kill(child, (int)si.ssi_signo);
            }
            if (waitpid(child, &status, WNOHANG) == child) exited = 1;
        }
        if (p[3].revents) {
            struct winsize ws;
            int got = read_size(resize_fd, &ws);
            if (got < 0) resize_fd = -1;
            else if (got) ioctl(master, TIOCSWINSZ, &ws);
        }
        if (!master_open && !exited) {
            waitpid(child, &status, 0);
            exited = 1;
        }
    }
    if (!exited) waitpid(child, &status, 0);
    tty_restore();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
