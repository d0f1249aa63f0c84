/*
 * edge-shm firmware: the calibrated spiking forecaster as integer C99.
 *
 * Integer arithmetic only, no floating point, no dynamic allocation. Weights, biases and
 * index maps are `const` (flash); membranes, spikes and scratch are static arrays (RAM).
 * Every size and constant of the network is in model.h (generated from calibration.json).
 *
 * Use, per camera frame:
 *
 *     esf_reset();                      once, before a sequence (zero membranes)
 *     esf_step(pixels);                 each frame: ESF_FRAME_H x ESF_FRAME_W uint8 pixels,
 *                                       row-major, round(x * ESF_INPUT_SCALE) for x in [0, 1]
 *     esf_forecast(pixels, z);          the forecast after that frame, as integers
 *                                       (or esf_forecast_value(pixels, i), one at a time)
 *
 * Decoding the integer forecast z (ESF_OUT_C x ESF_OUT_H x ESF_OUT_W, channel-major) into
 * frame units, on whatever side has floating point (model.h has the numbers):
 *
 *     without keep-cracked (ESF_KEEPS_CRACKED 0):  y = z / ESF_READOUT_SCALE
 *     with keep-cracked    (ESF_KEEPS_CRACKED 1):  y = p / Q + z / (Q * ESF_READOUT_SCALE)
 *
 * with p the input pixel at the same (row, column) and Q = ESF_INPUT_SCALE: what is cracked
 * in the frame stays cracked, elsewhere the network's readout. A threshold on y (say 0.5)
 * is a threshold on z: for binary frames (Q = 1) a pixel is forecast cracked when
 * p = 1 or 2 z > ESF_READOUT_SCALE.
 *
 * The arithmetic is the integer engine's (edge_shm.firmware_sim.int_engine), bit for bit;
 * `edge-shm simulate FW --backend c` checks it on the host.
 */
#ifndef ESF_H
#define ESF_H

#include <stdint.h>

#include "model.h"

/* Zero every membrane and spike: the state before the first frame of a sequence. */
void esf_reset(void);

/* One step of the network on one frame (ESF_FRAME_PIXELS pixels, row-major). */
void esf_step(const uint8_t *pixels);

/* The readout of the last step: ESF_READOUT_SIZE int32 in (row, column, channel) order. */
const int32_t *esf_readout(void);

/* The integer forecast of the last step (ESF_OUT_SIZE values, channel-major); `pixels` are
 * the frame given to that step (keep-cracked reads them). esf_forecast_value gives value i
 * alone, for a caller without RAM for all ESF_OUT_SIZE of them. */
void esf_forecast(const uint8_t *pixels, int64_t *z);
int64_t esf_forecast_value(const uint8_t *pixels, uint32_t i);

/* Spikes of LIF population `lif` (0 .. ESF_N_LIF - 1) at the last step, one bit per neuron
 * in (row, column, channel) order, least significant bit first; esf_lif_neurons(lif) bits. */
const uint8_t *esf_spikes(int lif);
uint32_t esf_lif_neurons(int lif);

/* Synaptic additions of the last step (one per event and output it reaches). */
uint32_t esf_synaptic_ops(void);

#endif
