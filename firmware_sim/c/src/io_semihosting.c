/*
 * The harness on a Cortex-M: Arm semihosting (bkpt 0xAB) for files and exit, SysTick for
 * time. Runs under `qemu-system-arm -machine mps2-an386 -semihosting`; no C library calls
 * beyond memset/memcpy.
 */
#include <stdint.h>

#include "io.h"

#define SYS_OPEN 0x01
#define SYS_CLOSE 0x02
#define SYS_WRITE0 0x04
#define SYS_WRITE 0x05
#define SYS_READ 0x06
#define SYS_EXIT 0x18
#define ADP_EXIT_OK 0x20026
#define ADP_EXIT_ERROR 0x20023

static int32_t semihost(int32_t op, void *arg) {
    register int32_t r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static uint32_t length(const char *s) {
    uint32_t n = 0;
    while (s[n]) n++;
    return n;
}

void io_exit(int ok) {
    semihost(SYS_EXIT, (void *)(intptr_t)(ok ? ADP_EXIT_OK : ADP_EXIT_ERROR));
    for (;;) {
    }
}

void io_fail(const char *why) {
    semihost(SYS_WRITE0, (void *)"esf: ");
    semihost(SYS_WRITE0, (void *)why);
    semihost(SYS_WRITE0, (void *)"\n");
    io_exit(0);
}

io_file io_open(const char *path, int write) {
    int32_t args[3] = {(int32_t)(intptr_t)path, write ? 5 : 1, (int32_t)length(path)};
    int32_t h = semihost(SYS_OPEN, args); /* mode 1 "rb", 5 "wb" */
    if (h == -1) io_fail(path);
    return h;
}

uint32_t io_read(io_file f, void *buf, uint32_t n) {
    int32_t args[3] = {(int32_t)f, (int32_t)(intptr_t)buf, (int32_t)n};
    return n - (uint32_t)semihost(SYS_READ, args); /* returns the bytes not read */
}

void io_write(io_file f, const void *buf, uint32_t n) {
    int32_t args[3] = {(int32_t)f, (int32_t)(intptr_t)buf, (int32_t)n};
    if (semihost(SYS_WRITE, args) != 0) io_fail("write failed");
}

void io_close(io_file f) {
    int32_t args[1] = {(int32_t)f};
    semihost(SYS_CLOSE, args);
}

/* SysTick counts down from 2^24 - 1 on the processor clock; the handler counts the wraps. */
#define SYST_CSR (*(volatile uint32_t *)0xE000E010)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018)
static volatile uint32_t wraps;

void SysTick_Handler(void) { wraps++; }

void io_clock_start(void) {
    SYST_RVR = 0xFFFFFF;
    SYST_CVR = 0;
    SYST_CSR = 7; /* enable, interrupt, processor clock */
    while (SYST_CVR == 0) { /* the counter loads its reload value at the first tick */
    }
}

uint32_t io_ticks(void) {
    uint32_t w, v;
    do {
        w = wraps;
        v = SYST_CVR;
    } while (w != wraps);
    return w * 0x1000000u + (0xFFFFFFu - v);
}

/* Ticks of a loop of 2 n + 2 instructions (subs, bne per turn): what a tick is worth. */
uint32_t io_calibrate(uint32_t n) {
    uint32_t t0 = io_ticks();
    __asm__ volatile("1: subs %0, %0, #1\n bne 1b" : "+r"(n) : : "cc");
    return io_ticks() - t0;
}
