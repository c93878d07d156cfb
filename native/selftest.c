/*
 * selftest: the config parser on this build's target, without the kernel.
 * A prebuilt helper for another architecture (linux-arm64, built by a cross
 * compiler at pack time) cannot run the engine's tests on this machine; under
 * qemu-user it can still show that it starts (statically linked: no loader,
 * no libc to find) and decodes a CONF exactly as the native build does. The
 * kernel interfaces are probe's business, and qemu-user does not emulate all
 * of them.
 */
#include <stdio.h>
#include <string.h>

#include "helper.h"

#if defined(__x86_64__)
#define TARGET_ARCH "x86_64"
#elif defined(__aarch64__)
#define TARGET_ARCH "aarch64"
#else
#define TARGET_ARCH "other"
#endif

int selftest_main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: tsc-helper selftest CONF\n");
        return 2;
    }
    struct conf c;
    if (conf_load(&c, argv[2]) < 0) {
        perror(argv[2]);
        return 1;
    }
    /* Each directive: its key, then each decoded field in hex ("-" for an empty one). */
    for (int i = 0; i < c.n; i++) {
        fputs(c.lines[i].key, stdout);
        for (int j = 0; j < c.lines[i].n; j++) {
            const unsigned char *f = (const unsigned char *)c.lines[i].arg[j];
            putchar(' ');
            if (!*f) putchar('-');
            for (; *f; f++) printf("%02x", *f);
        }
        putchar('\n');
    }
    printf("arch %s\nok %d\n", TARGET_ARCH, c.n);
    return 0;
}
