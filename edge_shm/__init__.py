"""edge-shm: neuromorphic edge deployment for structural health monitoring."""

__version__ = "0.3.0"
