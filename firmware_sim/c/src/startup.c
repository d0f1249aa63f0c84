/*
 * Cortex-M start-up for the harness: the vector table, .data copied from flash, .bss
 * zeroed, the clock started, then the harness; the emulator ends with the harness's result.
 * The first output word, before "ESFO" is read back, is the clock calibration (io.h).
 */
#include <stdint.h>
#include <string.h>

#include "io.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
void io_exit(int ok);
void io_clock_start(void);
uint32_t io_calibrate(uint32_t n);
void SysTick_Handler(void);

#define CALIBRATION_TURNS 1000000u

static void fault(void) { io_fail("hard fault"); }

void Reset_Handler(void) {
    memcpy(&_sdata, &_sidata, (uintptr_t)&_edata - (uintptr_t)&_sdata);
    memset(&_sbss, 0, (uintptr_t)&_ebss - (uintptr_t)&_sbss);
    io_clock_start();
    uint32_t ticks = io_calibrate(CALIBRATION_TURNS);
    io_file f = io_open("esf_clock.bin", 1);
    uint32_t words[2] = {2 * CALIBRATION_TURNS + 2, ticks};
    io_write(f, words, sizeof words);
    io_close(f);
    io_exit(esf_main("esf_in.bin", "esf_out.bin") == 0);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(&_estack), Reset_Handler, fault, fault, fault, fault, fault, 0, 0, 0, 0,
    fault, fault, 0, fault, SysTick_Handler,
};
