"""Torch-free neuron and synapse arithmetic shared by every device-side runtime.

``lif`` holds the one LIF step (float implementation of the neuron-step interface), ``conv``
the convolution, its layouts and the fixed re-indexings (depth-to-space). The torch models
compute the same arithmetic through Norse and torch; the export verification proves it.
"""
