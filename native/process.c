/*
 * The last steps before the container's command runs, shared by `start` (PID 1)
 * and `exec`: rlimits, seccomp, capabilities, user and groups, no_new_privs,
 * cwd, closing inherited fds, and the exec itself.
 *
 * The exec goes through a second stage: this binary, re-executed from a
 * read-only detached mount of itself. A command like `#!/proc/self/exe` then
 * reaches only that read-only mount, and cannot overwrite the host's helper
 * (CVE-2019-5736); the stage also searches PATH with the container's own
 * environment, after every privilege has been dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

/*
 * The start server makes its sealed copy once (serve.c) and every start it
 * forks takes a duplicate: closing a duplicate is no last close, so no start
 * dissolves a detached mount (which waits for an RCU grace period).
 */
int g_sealed_self = -1;

int sealed_self(void) {
    if (g_sealed_self >= 0) {
        int dup = fcntl(g_sealed_self, F_DUPFD_CLOEXEC, 3);
        if (dup < 0) fail_errno(125, "duplicate the sealed helper binary");
        return dup;
    }
    int fd = open_tree(AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (fd < 0) fail_errno(125, "clone the helper binary");
    if (mount_attrs(fd, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0) == 0) return fd;
    if (errno != ENOSYS) fail_errno(125, "seal the helper binary");
    close(fd);
    return sealed_copy_of_self();
}

static void set_rlimits(const struct conf *c) {
    for (int i = 0; i < c->n; i++) {
        const struct conf_line *l = &c->lines[i];
        if (strcmp(l->key, K_RLIMIT) || l->n < 3) continue;
        long long soft = strtoll(l->arg[1], NULL, 10), hard = strtoll(l->arg[2], NULL, 10);
        struct rlimit rl = { soft < 0 ? RLIM_INFINITY : (rlim_t)soft, hard < 0 ? RLIM_INFINITY : (rlim_t)hard };
        if (setrlimit(atoi(l->arg[0]), &rl) < 0) fail_errno(125, "setrlimit %s", l->arg[0]);
    }
}

static void install_seccomp(const struct conf *c) {
    const char *hex = conf_get(c, K_SECCOMP);
    if (!hex || !*hex) return;
    size_t bytes;
    unsigned char *buf = hex_bytes(hex, sizeof(struct sock_filter), &bytes);
    if (!buf) fail(125, "helper: malformed seccomp program");
    struct sock_fprog prog = { .len = (unsigned short)(bytes / sizeof(struct sock_filter)), .filter = (struct sock_filter *)buf };
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) fail_errno(125, "install the seccomp filter");
    free(buf);
}

static void set_user_and_caps(const struct conf *c) {
    unsigned long long bounding = ~0ULL, eff = ~0ULL, perm = ~0ULL, inh = 0, amb = 0;
    for (int i = 0; i < c->n; i++) {
        const struct conf_line *l = &c->lines[i];
        if (strcmp(l->key, K_CAPS) == 0 && l->n >= 5) {
            bounding = parse_hex(l->arg[0]);
            eff = parse_hex(l->arg[1]);
            perm = parse_hex(l->arg[2]);
            inh = parse_hex(l->arg[3]);
            amb = parse_hex(l->arg[4]);
        }
    }
    for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
        if (cap < 64 && !(bounding >> cap & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
            fail_errno(125, "drop capability %d from the bounding set", cap);

    uid_t uid = (uid_t)conf_num(c, K_UID, 0);
    gid_t gid = (gid_t)conf_num(c, K_GID, 0);
    gid_t groups[NGROUPS_MAX];
    size_t ngroups = 0;
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->lines[i].key, K_GROUPS) == 0)
            for (int j = 0; j < c->lines[i].n && ngroups < NGROUPS_MAX; j++) groups[ngroups++] = (gid_t)strtoul(c->lines[i].arg[j], NULL, 10);

    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail_errno(125, "keep capabilities");
    if (setgroups(ngroups, groups) < 0) fail_errno(125, "setgroups");
    if (setresgid(gid, gid, gid) < 0) fail_errno(125, "setgid %u", gid);
    if (setresuid(uid, uid, uid) < 0) fail_errno(125, "setuid %u", uid);
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail_errno(125, "clear keepcaps");

    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2] = {
        { (uint32_t)eff, (uint32_t)perm, (uint32_t)inh },
        { (uint32_t)(eff >> 32), (uint32_t)(perm >> 32), (uint32_t)(inh >> 32) },
    };
    if (syscall(SYS_capset, &hdr, data) < 0) fail_errno(125, "set capabilities");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) fail_errno(125, "clear ambient capabilities");
    for (int cap = 0; cap < 64; cap++)
        if ((amb >> cap & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
            fail_errno(125, "raise ambient capability %d", cap);
}

static void enter_cwd(const struct conf *c) {
    const char *cwd = conf_get(c, K_CWD);
    if (!cwd || !*cwd) cwd = "/";
    if (chdir(cwd) < 0) fail_errno(125, "chdir to the working directory \"%s\"", cwd);
    /* A cwd reached through a leaked host fd reads as "(unreachable)/..." (CVE-2024-21626). */
    char buf[PATH_MAX];
    if (!getcwd(buf, sizeof buf) || buf[0] != '/') fail(125, "cwd \"%s\" is outside the container", cwd);
}

/*
 * A new, anonymous session keyring, as runc gives every container's processes:
 * else they share the session keyring of whoever started the engine, whose
 * keys a privileged container (no seccomp filter) could read and change.
 * Kernels without keyrings (ENOSYS) have nothing to share.
 */
static void join_own_keyring(void) {
    if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS)
        fail_errno(125, "create the container's session keyring");
}

noreturn void process_exec(const struct conf *c, int helper_fd, int sync_fd) {
    set_rlimits(c);
    join_own_keyring();
    long long adj = conf_num(c, K_OOM_SCORE_ADJ, LLONG_MIN);
    if (adj != LLONG_MIN) {
        char text[32];
        snprintf(text, sizeof text, "%lld", adj);
        if (write_file("/proc/self/oom_score_adj", text) < 0) fail_errno(125, "set oom_score_adj");
    }
    int nnp = conf_num(c, K_NNP, 0) != 0;
    /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it before the drop. */
    if (!nnp) install_seccomp(c);
    set_user_and_caps(c);
    enter_cwd(c);
    if (nnp) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail_errno(125, "set no_new_privs");
        install_seccomp(c);
    }
    umask((mode_t)strtoul(conf_get(c, K_UMASK) ? conf_get(c, K_UMASK) : "022", NULL, 8));

    int nargs = 0, nenv = 0;
    for (int i = 0; i < c->n; i++) {
        if (strcmp(c->lines[i].key, K_ARG) == 0) nargs++;
        else if (strcmp(c->lines[i].key, K_ENV) == 0) nenv++;
    }
    if (nargs == 0) fail(125, "no command specified");
    char **argv = calloc(nargs + 4, sizeof(char *));
    char **envp = calloc(nenv + 1, sizeof(char *));
    char fdtext[16];
    snprintf(fdtext, sizeof fdtext, "%d", sync_fd);
    argv[0] = "tsc-stage2";
    argv[1] = "stage2";
    argv[2] = fdtext;
    int a = 3, e = 0;
    for (int i = 0; i < c->n; i++) {
        const struct conf_line *l = &c->lines[i];
        if (strcmp(l->key, K_ARG) == 0) argv[a++] = l->n ? l->arg[0] : "";
        else if (strcmp(l->key, K_ENV) == 0 && l->n) envp[e++] = l->arg[0];
    }

    /* Nothing of ours crosses into the container but stdio and the sync fd (closed by stage 2's exec). */
    cloexec_from(3);
    if (fcntl(sync_fd, F_SETFD, 0) < 0) fail_errno(125, "keep the sync fd");
    syscall(SYS_execveat, helper_fd, "", argv, envp, AT_EMPTY_PATH);
    fail_errno(125, "exec the helper's second stage");
}

/* Stage 2: runs as the container's user, inside it; finds the command on the container's PATH. */
int stage2_main(int argc, char **argv) {
    if (argc < 4) return 125;
    int fd = atoi(argv[2]);
    g_errfd = fd;
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) fail_errno(125, "stage2: sync fd");
    char **args = argv + 3;
    extern char **environ;
    const char *cmd = args[0];
    if (!*cmd) fail(127, "exec: \"\": executable file not found in $PATH");
    if (strchr(cmd, '/')) {
        execve(cmd, args, environ);
        int err = errno;
        if (err == ENOENT) fail(127, "exec: \"%s\": stat %s: no such file or directory", cmd, cmd);
        errno = err;
        fail_errno(err == EACCES || err == ENOEXEC ? 126 : 127, "exec: \"%s\"", cmd);
    }
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    int saw_eacces = 0;
    char *dirs = strdup(path);
    for (char *save = NULL, *dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        char full[PATH_MAX];
        if (snprintf(full, sizeof full, "%s/%s", *dir ? dir : ".", cmd) >= (int)sizeof full) continue;
        struct stat st;
        if (stat(full, &st) < 0 || S_ISDIR(st.st_mode)) continue;
        execve(full, args, environ);
        if (errno == EACCES) { saw_eacces = 1; continue; }
        if (errno == ENOENT || errno == ENOTDIR) continue;
        fail_errno(126, "exec: \"%s\"", full);
    }
    if (saw_eacces) fail(126, "exec: \"%s\": permission denied", cmd);
    fail(127, "exec: \"%s\": executable file not found in $PATH", cmd);
}
