"""Writers of deployment artefacts (ONNX, NIR, Lava bundle), verified against torch.

``edge_shm.export.api.export_run`` is the entry point (``edge-shm export``); the targets are
listed once in :mod:`edge_shm.export.targets`.
"""
