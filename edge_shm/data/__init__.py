"""Digital libraries and frames: the HDF5 format, generators, importing, window enumeration.

Torch-free: everything here also runs in the Lava environment.
"""
