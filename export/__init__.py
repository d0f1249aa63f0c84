"""Writers of deployment artefacts (ONNX, NIR, Lava bundle).

``edge_shm.export.api.export_run`` is the entry point (``edge-shm export``); the targets live in
``onnx_export``, ``nir_export`` and ``lava_bundle``, the parity checks in ``verify``.
"""

TARGETS = ("onnx", "nir", "lava")
