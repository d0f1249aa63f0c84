"""The calibrated graph as C99 firmware: generated (``generate``), compiled for the host or a
Cortex-M4 (``toolchain``), run and read back (``runner``). Torch-free."""
