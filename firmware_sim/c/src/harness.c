/*
 * Test harness: runs sequences of frames through the engine and writes every step's spikes,
 * readout and integer forecast, so that the host can compare them with the integer engine.
 *
 *   input  (esf_in.bin):  "ESFI", uint32 sequences, frames, height, width, then the pixels
 *                         (uint8, sequence-major, row-major)
 *   output (esf_out.bin): "ESFO", then per sequence and frame: every LIF population's spike
 *                         bits, the readout (int32), the forecast (int64), the step's
 *                         synaptic additions and clock ticks (uint32 each; io.h)
 *
 * Little-endian throughout. On the host (ESF_HOST) the files are named on the command line;
 * on the microcontroller (ESF_SEMIHOSTING) they are opened through Arm semihosting, relative
 * to the emulator's working folder, and ticks come from SysTick (startup.c).
 */
#include <stdint.h>
#include <string.h>

#include "esf.h"
#include "io.h"

static uint8_t frame[ESF_FRAME_PIXELS];
#define CHUNK 256
static int64_t z[CHUNK];

static uint32_t read_u32(io_file f) {
    uint8_t b[4];
    if (io_read(f, b, 4) != 4) io_fail("esf_in.bin: truncated header");
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void write_u32(io_file f, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    io_write(f, b, 4);
}

int esf_main(const char *in_path, const char *out_path) {
    io_file in = io_open(in_path, 0), out = io_open(out_path, 1);
    uint8_t magic[4];
    if (io_read(in, magic, 4) != 4 || memcmp(magic, "ESFI", 4)) io_fail("esf_in.bin: not ESFI");
    uint32_t n_seq = read_u32(in), n_frames = read_u32(in);
    if (read_u32(in) != ESF_FRAME_H || read_u32(in) != ESF_FRAME_W)
        io_fail("esf_in.bin: frames of another size than the firmware's");
    io_write(out, "ESFO", 4);
    for (uint32_t s = 0; s < n_seq; s++) {
        esf_reset();
        for (uint32_t t = 0; t < n_frames; t++) {
            if (io_read(in, frame, ESF_FRAME_PIXELS) != ESF_FRAME_PIXELS)
                io_fail("esf_in.bin: truncated frames");
            uint32_t t0 = io_ticks();
            esf_step(frame);
            for (uint32_t i = 0; i < ESF_OUT_SIZE; i++) (void)esf_forecast_value(frame, i);
            uint32_t ticks = io_ticks() - t0; /* frame in, forecast out */
            for (int l = 0; l < ESF_N_LIF; l++)
                io_write(out, esf_spikes(l), (esf_lif_neurons(l) + 7) / 8);
            io_write(out, esf_readout(), ESF_READOUT_SIZE * sizeof(int32_t));
            for (uint32_t i = 0; i < ESF_OUT_SIZE; i += CHUNK) {
                uint32_t n = ESF_OUT_SIZE - i < CHUNK ? ESF_OUT_SIZE - i : CHUNK;
                for (uint32_t k = 0; k < n; k++) z[k] = esf_forecast_value(frame, i + k);
                io_write(out, z, n * sizeof(int64_t));
            }
            write_u32(out, esf_synaptic_ops());
            write_u32(out, ticks);
        }
    }
    io_close(in);
    io_close(out);
    return 0;
}
