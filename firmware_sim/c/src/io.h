/* File input and output and a clock for the harness: stdio on a host, Arm semihosting on
 * the microcontroller (io_semihosting.c). Not used by the engine. */
#ifndef ESF_IO_H
#define ESF_IO_H

#include <stdint.h>

typedef intptr_t io_file;

io_file io_open(const char *path, int write);
uint32_t io_read(io_file f, void *buf, uint32_t n);   /* bytes read */
void io_write(io_file f, const void *buf, uint32_t n);
void io_close(io_file f);
void io_fail(const char *why);                        /* prints why, exits non-zero */
uint32_t io_ticks(void); /* clock ticks: SysTick on a Cortex-M, nanoseconds on a host */
int esf_main(const char *in_path, const char *out_path);

#endif
