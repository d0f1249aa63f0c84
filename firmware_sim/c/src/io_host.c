/* The harness's input and output on a host: stdio; ticks are nanoseconds of the monotonic
 * clock. Usage: esf_host IN OUT */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>

#include "io.h"

io_file io_open(const char *path, int write) {
    FILE *f = fopen(path, write ? "wb" : "rb");
    if (!f) io_fail(path);
    return (io_file)f;
}

uint32_t io_read(io_file f, void *buf, uint32_t n) { return (uint32_t)fread(buf, 1, n, (FILE *)f); }

void io_write(io_file f, const void *buf, uint32_t n) {
    if (fwrite(buf, 1, n, (FILE *)f) != n) io_fail("write failed");
}

void io_close(io_file f) {
    if (fclose((FILE *)f)) io_fail("close failed");
}

void io_fail(const char *why) {
    fprintf(stderr, "esf: %s\n", why);
    exit(2);
}

#include <time.h>

uint32_t io_ticks(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint32_t)((uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec);
}

int main(int argc, char **argv) {
    if (argc != 3) io_fail("usage: esf_host IN OUT");
    return esf_main(argv[1], argv[2]);
}
