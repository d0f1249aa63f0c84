/*
 * The engine: one pass over the layer table of model.c per frame. Synapses are event-driven
 * (each non-zero input scatters its kernel into the outputs it reaches); arithmetic per
 * precision as in edge_shm.firmware_sim.int_engine:
 *
 *   loihi:  a = wrap24(acc) + wrap24(b);  u = wrap_u(64 a);
 *           v = clip(trunc0(v (4096 - dv) / 4096) + u, +-(2^23 - 1));  spike if v > 64 vth
 *   int8:   acc = sat32(acc + b);  a = floor((acc M + 2^(sh-1)) / 2^sh);
 *           v = sat16(trunc0(v (4096 - dv) / 4096) + a);               spike if v > vth
 *
 * and v = 0 where a neuron spikes. Accumulators are esf_acc_t (model.h): 32 bits when the
 * generator proved that no sum of a layer can exceed int32, else 64. A layer's outputs are
 * computed in bands of `band` rows, so that the scratch holds one band, not the layer; each
 * band reads only the input rows that reach it. Loihi membranes (24 bit) are stored in 3
 * bytes, int8 membranes as int16.
 */
#include <string.h>

#include "esf.h"

static uint32_t synaptic_ops;

#define MAX24 (1L << 23)

#if ESF_LOIHI
static int32_t wrap24(int64_t x) {
    uint32_t u = (uint32_t)((uint64_t)x & 0xFFFFFFu);
    return (int32_t)(u ^ 0x800000u) - (int32_t)0x800000;
}

static int32_t wrap_u(int32_t x) { /* Lava LIF's single conditional wrap of the current */
    int32_t y = x > MAX24 ? x - 2 * MAX24 : x;
    return y <= -MAX24 ? x + 2 * MAX24 : y;
}
#endif

/* Signed right shifts are arithmetic (floor) on every compiler this tree supports (gcc and
 * clang define it); the engine relies on it to stay branch-free. */
#if (-1 >> 1) != -1
#error "this engine needs arithmetic right shifts of negative integers"
#endif

#if ESF_LOIHI
static int64_t decay(int64_t v, int32_t dv) { /* trunc0(v (4096 - dv) / 4096) */
    int64_t p = v * (int64_t)(4096 - dv);
    return (p + ((p >> 63) & 4095)) >> 12;
}
#else
static int32_t decay(int32_t v, int32_t dv) { /* the same; |v| < 2^15 keeps p within int32 */
    int32_t p = v * (4096 - dv);
    return (p + ((p >> 31) & 4095)) >> 12;
}
#endif

static int64_t clip64(int64_t x, int64_t lo, int64_t hi) { return x < lo ? lo : (x > hi ? hi : x); }

#if ESF_LOIHI
static int32_t load_v(const esf_v_t *m, uint32_t i) {
    const uint8_t *p = m + 3 * i;
    return wrap24((int64_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16));
}

static void store_v(esf_v_t *m, uint32_t i, int32_t v) {
    uint32_t u = (uint32_t)v;
    uint8_t *p = m + 3 * i;
    p[0] = (uint8_t)u;
    p[1] = (uint8_t)(u >> 8);
    p[2] = (uint8_t)(u >> 16);
}
#else
#if !ESF_REQUANT32
static int64_t floor_shift(int64_t t, int s) { return t >> s; } /* floor(t / 2^s) */
#endif
#define load_v(m, i) ((int32_t)(m)[i])
#define store_v(m, i, x) ((m)[i] = (esf_v_t)(x))
#endif

/* One input event (channel ci at row iy, column ix, value val) into output rows [y0, y1).
 * Strides are powers of two (sy = 1 << sy_shift); the tap loops stop where the output row or
 * column they reach falls below the band or the frame, since it falls as ky and kx grow. */
static void scatter(const esf_layer_t *L, int32_t ci, int32_t iy, int32_t ix, int32_t val,
                    int32_t y0, int32_t y1) {
    const int32_t c_out = L->c_out; /* weights unscaled: finish_band applies 2^w_shift */
    const int32_t ymask = (1 << L->sy_shift) - 1, xmask = (1 << L->sx_shift) - 1;
    for (int32_t ky = 0; ky < L->kh; ky++) {
        int32_t ny = iy + L->py - ky * L->dy;
        if (ny < 0) break;
        if (ny & ymask) continue;
        int32_t oy = ny >> L->sy_shift;
        if (oy < y0) break;
        if (oy >= y1) continue;
        esf_acc_t *row = esf_scratch + (oy - y0) * L->w_out * c_out;
        const int8_t *wk = L->weight + (ci * L->kh + ky) * L->kw * c_out;
        for (int32_t kx = 0; kx < L->kw; kx++) {
            int32_t nx = ix + L->px - kx * L->dx;
            if (nx < 0) break;
            if (nx & xmask) continue;
            int32_t ox = nx >> L->sx_shift;
            if (ox >= L->w_out) continue;
            const int8_t *restrict w = wk + kx * c_out;
            esf_acc_t *restrict a = row + ox * c_out;
            if (val == 1) {
                int32_t co = 0;
                for (; co + 8 <= c_out; co += 8) /* eight at once: vectorised on the host */
                    for (int32_t k = 0; k < 8; k++) a[co + k] += w[co + k];
                for (; co < c_out; co++) a[co] += w[co];
            } else
                for (int32_t co = 0; co < c_out; co++) a[co] += (esf_acc_t)w[co] * val;
            synaptic_ops += (uint32_t)c_out;
        }
    }
}

/* Every event of input rows [lo, hi] into output rows [y0, y1). */
static void gather_events(const esf_layer_t *L, const uint8_t *pixels, const uint8_t *bits,
                          int32_t lo, int32_t hi, int32_t y0, int32_t y1) {
    if (bits == 0) {
        for (int32_t y = lo; y <= hi; y++)
            for (int32_t x = 0; x < L->w_in; x++) {
                int32_t p = pixels[y * L->w_in + x];
                if (p) scatter(L, 0, y, x, p, y0, y1);
            }
        return;
    }
    uint32_t row = (uint32_t)L->w_in * (uint32_t)L->c_in;
    uint32_t i = (uint32_t)lo * row, end = (uint32_t)(hi + 1) * row;
    while (i < end) {
        if ((i & 7u) == 0 && i + 8 <= end && bits[i >> 3] == 0) {
            i += 8;
            continue;
        }
        if (bits[i >> 3] >> (i & 7u) & 1u) {
            uint32_t pix = i / (uint32_t)L->c_in;
            scatter(L, (int32_t)(i % (uint32_t)L->c_in), (int32_t)(pix / (uint32_t)L->w_in),
                    (int32_t)(pix % (uint32_t)L->w_in), 1, y0, y1);
        }
        i++;
    }
}

/* The synaptic input a of every output of rows [y0, y1), then the neurons (or the readout).
 * The layer's constants are read into locals first: the byte stores below may alias them. */
static void finish_band(const esf_layer_t *L, int32_t y0, int32_t y1) {
    const int32_t c_out = L->c_out, dv = L->dv, pixels = (y1 - y0) * L->w_out;
    const int32_t *const bias = L->bias;
    esf_v_t *const vm = L->v;
    uint8_t *const bits = L->spikes;
    uint32_t i = (uint32_t)y0 * (uint32_t)L->w_out * (uint32_t)c_out;
    const esf_acc_t *acc = esf_scratch;
#if ESF_LOIHI
    /* Loihi weights are mantissa 2^w_shift; the scaled sums fit esf_acc_t (generate.py) */
    const esf_acc_t scale = (esf_acc_t)1 << L->w_shift;
#endif
    if (vm == 0) {
        for (int32_t p = 0; p < pixels; p++)
            for (int32_t co = 0; co < c_out; co++, i++, acc++)
#if ESF_LOIHI
                esf_readout_buf[i] = wrap24(*acc * scale) + bias[co];
#else
                esf_readout_buf[i] = (int32_t)clip64((int64_t)*acc + bias[co], INT32_MIN, INT32_MAX);
#endif
        return;
    }
#if ESF_LOIHI
    const int64_t vth = (int64_t)L->vth * 64;
#elif ESF_REQUANT32
    const int32_t vth = L->vth, multiplier = L->multiplier, half = (int32_t)1 << (L->shift - 1);
    const int shift = (int)L->shift;
#else
    const int64_t vth = L->vth, multiplier = L->multiplier, half = (int64_t)1 << (L->shift - 1);
    const int shift = (int)L->shift;
#endif
    /* the spike bits of the byte in progress; a band starting inside a byte keeps the bits
     * below it, written by the band before */
    uint8_t byte = (uint8_t)(bits[i >> 3] & ((1u << (i & 7u)) - 1u));
    for (int32_t p = 0; p < pixels; p++) {
        for (int32_t co = 0; co < c_out; co++, i++, acc++) {
#if ESF_LOIHI
            int32_t a = wrap24(*acc * scale) + bias[co];
            int64_t v = clip64(decay(load_v(vm, i), dv) + wrap_u(a * 64), -(MAX24 - 1), MAX24 - 1);
#elif ESF_REQUANT32 /* the generator proved that neither sum saturates nor t leaves int32 */
            int32_t t = (int32_t)(*acc + bias[co]) * multiplier + half;
            int32_t v = decay(load_v(vm, i), dv) + (t >> shift);
            v = v < INT16_MIN ? INT16_MIN : (v > INT16_MAX ? INT16_MAX : v);
#else
            int32_t a = (int32_t)clip64((int64_t)*acc + bias[co], INT32_MIN, INT32_MAX);
            int64_t t = (int64_t)a * multiplier + half;
            int64_t v = clip64(decay(load_v(vm, i), dv) + floor_shift(t, shift), INT16_MIN,
                               INT16_MAX);
#endif
            const uint32_t spike = v > vth;
            store_v(vm, i, spike ? 0 : (int32_t)v);
            byte |= (uint8_t)(spike << (i & 7u));
            if ((i & 7u) == 7u) {
                bits[i >> 3] = byte;
                byte = 0;
            }
        }
    }
    if (i & 7u) /* a band that ends inside a byte: keep the bits of the next band's neurons */
        bits[i >> 3] = (uint8_t)((bits[i >> 3] & (0xFFu << (i & 7u))) | byte);
}

void esf_reset(void) {
    for (int l = 0; l < ESF_N_LAYERS; l++) {
        const esf_layer_t *L = &esf_layers[l];
        if (L->v == 0) continue;
        uint32_t n = (uint32_t)L->h_out * L->w_out * L->c_out;
        memset(L->v, 0, n * ESF_V_BYTES);
        memset(L->spikes, 0, (n + 7) / 8);
    }
}

void esf_step(const uint8_t *pixels) {
    synaptic_ops = 0;
    const uint8_t *bits = 0; /* spikes of the previous population, NULL for the frame */
    for (int l = 0; l < ESF_N_LAYERS; l++) {
        const esf_layer_t *L = &esf_layers[l];
        for (int32_t y0 = 0; y0 < L->h_out; y0 += L->band) {
            int32_t y1 = y0 + L->band < L->h_out ? y0 + L->band : L->h_out;
            int32_t lo = (y0 << L->sy_shift) - L->py;
            int32_t hi = ((y1 - 1) << L->sy_shift) - L->py + (L->kh - 1) * L->dy;
            memset(esf_scratch, 0, (size_t)(y1 - y0) * L->w_out * L->c_out * sizeof(esf_acc_t));
            gather_events(L, pixels, bits, lo < 0 ? 0 : lo, hi >= L->h_in ? L->h_in - 1 : hi, y0,
                          y1);
            finish_band(L, y0, y1);
        }
        bits = L->spikes;
    }
}

const int32_t *esf_readout(void) { return esf_readout_buf; }

int64_t esf_forecast_value(const uint8_t *pixels, uint32_t i) {
    int64_t z = esf_readout_buf[esf_out_map[i]];
#if ESF_KEEPS_CRACKED
    z *= (int64_t)(ESF_INPUT_SCALE - pixels[i % ESF_FRAME_PIXELS]);
#endif
    (void)pixels;
    return z;
}

void esf_forecast(const uint8_t *pixels, int64_t *z) {
    for (uint32_t i = 0; i < ESF_OUT_SIZE; i++) z[i] = esf_forecast_value(pixels, i);
}

const uint8_t *esf_spikes(int lif) { return esf_lif_layers[lif]->spikes; }

uint32_t esf_lif_neurons(int lif) {
    const esf_layer_t *L = esf_lif_layers[lif];
    return (uint32_t)L->h_out * L->w_out * L->c_out;
}

uint32_t esf_synaptic_ops(void) { return synaptic_ops; }
