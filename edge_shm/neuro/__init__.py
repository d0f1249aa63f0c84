"""Torch-free neuron and synapse arithmetic shared by every device-side runtime.

``precision`` holds the deployed number formats (byte sizes, integer rules: ``float32``,
``int8``, ``loihi``); ``lif`` the float LIF step and the neuron-step interface, ``fixed_lif``
its integer implementations (one per fixed-point precision); ``synapse`` the float and the
event-driven integer convolutions; ``chain`` the one stepper over synapse-neuron stages that
the float simulator, the integer engine and the Lava builders share; ``trace`` what a step and
a sequence leave behind; ``conv`` the convolution, its layouts and the fixed re-indexings
(depth-to-space). The torch models compute the same arithmetic through Norse and torch; the
export verification proves it.
"""
