"""Device-side runtimes; importable without torch (numpy, h5py, nir, lava only)."""
