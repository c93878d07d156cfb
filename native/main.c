/* tsc-helper: one binary, one job per entry point (see helper.h). */
#include <stdio.h>
#include <string.h>

#include "helper.h"

char **g_argv;
int g_argc;

int main(int argc, char **argv) {
    g_argv = argv;
    g_argc = argc;
    const char *cmd = argc > 1 ? argv[1] : "";
    if (strcmp(cmd, CMD_START) == 0) return start_main(argc, argv);
    if (strcmp(cmd, CMD_EXEC) == 0) return exec_main(argc, argv);
    if (strcmp(cmd, CMD_STAGE2) == 0) return stage2_main(argc, argv);
    if (strcmp(cmd, CMD_CP) == 0) return cp_main(argc, argv);
    if (strcmp(cmd, CMD_PROBE) == 0) return probe_main(argc, argv);
    if (strcmp(cmd, CMD_SELFTEST) == 0) return selftest_main(argc, argv);
    if (strcmp(cmd, CMD_KEEP) == 0) return keep_main(argc, argv);
    if (strcmp(cmd, CMD_SERVE) == 0) return serve_main(argc, argv);
    fprintf(stderr, "usage: tsc-helper start|exec|cp|selftest CONFIG, tsc-helper probe, tsc-helper serve, or tsc-helper keep ... -- PROGRAM\n"
                    "(an internal tool of tscompose; it reads a config written by tscompose)\n");
    return 2;
}
