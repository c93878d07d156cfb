/*
 * The device allow-list on cgroup v2: K_DEVICE_FILTER gives the container's
 * cgroup directory and an eBPF program of type CGROUP_DEVICE (hex of its
 * struct bpf_insn array, made by src/engine/native/runtime/cgroups/
 * device-filter.ts). `start` loads it and attaches it to the cgroup before
 * PID 1 is cloned, so nothing of the container runs unfiltered.
 *
 * Attached with BPF_F_ALLOW_MULTI, as runc does: programs of the ancestors
 * keep running too (a device must pass all of them). The attachment lives
 * as long as the cgroup, past this process, so a restart by the monitor
 * keeps it; a new `start` of a cgroup that survived replaces what is there
 * (attach the new one, then detach the old) rather than stacking copies.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sys/syscall.h>

#include "helper.h"

static int sys_bpf(int cmd, union bpf_attr *attr) {
    return (int)syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

static int load_program(const char *hex) {
    size_t bytes;
    unsigned char *insns = hex_bytes(hex, sizeof(struct bpf_insn), &bytes);
    if (!insns) fail(125, "helper: malformed device filter");
    /* The verifier's account of a refusal, kept for the error message. */
    static char log[4096];
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.expected_attach_type = BPF_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.insn_cnt = (uint32_t)(bytes / sizeof(struct bpf_insn));
    /* No GPL-only helper is called: the project's own licence. */
    attr.license = (uint64_t)(uintptr_t)"Apache-2.0";
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = sizeof log;
    attr.log_level = 1;
    int fd = sys_bpf(BPF_PROG_LOAD, &attr);
    if (fd < 0 && errno == ENOSPC) {
        /* The log was too small for the verifier's story: load again without it, for the errno alone. */
        attr.log_buf = 0, attr.log_size = 0, attr.log_level = 0;
        fd = sys_bpf(BPF_PROG_LOAD, &attr);
    }
    int err = errno;
    free(insns);
    if (fd < 0) {
        errno = err;
        fail_errno(125, "load the device filter (a kernel with CONFIG_CGROUP_BPF is needed)%s%.300s", *log ? ": " : "", log);
    }
    return fd;
}

/* Ids of the device programs attached to the cgroup itself (not its ancestors); returns how many. */
static uint32_t attached_programs(int cgroup, uint32_t *ids, uint32_t cap) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.query.target_fd = (uint32_t)cgroup;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
    attr.query.prog_cnt = cap;
    if (sys_bpf(BPF_PROG_QUERY, &attr) < 0) fail_errno(125, "list the device filters of the container's cgroup");
    return attr.query.prog_cnt < cap ? attr.query.prog_cnt : cap;
}

void attach_device_filter(const struct conf *c) {
    for (int i = 0; i < c->n; i++) {
        const struct conf_line *l = &c->lines[i];
        if (strcmp(l->key, K_DEVICE_FILTER) || l->n < 2) continue;
        int cgroup = open(l->arg[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cgroup < 0) fail_errno(125, "open cgroup %s", l->arg[0]);
        uint32_t old[64];
        uint32_t n_old = attached_programs(cgroup, old, 64);
        int prog = load_program(l->arg[1]);

        union bpf_attr attr;
        memset(&attr, 0, sizeof attr);
        attr.target_fd = (uint32_t)cgroup;
        attr.attach_bpf_fd = (uint32_t)prog;
        attr.attach_type = BPF_CGROUP_DEVICE;
        attr.attach_flags = BPF_F_ALLOW_MULTI;
        if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0) fail_errno(125, "attach the device filter to %s", l->arg[0]);

        for (uint32_t k = 0; k < n_old; k++) {
            memset(&attr, 0, sizeof attr);
            attr.prog_id = old[k];
            int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
            if (fd < 0) continue; /* gone already */
            memset(&attr, 0, sizeof attr);
            attr.target_fd = (uint32_t)cgroup;
            attr.attach_bpf_fd = (uint32_t)fd;
            attr.attach_type = BPF_CGROUP_DEVICE;
            if (sys_bpf(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT) fail_errno(125, "detach the old device filter of %s", l->arg[0]);
            close(fd);
        }
        /* The cgroup holds the program now: our descriptors can go. */
        close(prog);
        close(cgroup);
    }
}
