"""Writers of deployment artefacts (ONNX, int8 ONNX, NIR, Lava bundle, Lava fixed point),
verified against torch.

``edge_shm.export.api.export_artefact`` runs one row of the target table
(:mod:`edge_shm.export.targets`); the use case ``edge-shm export`` calls it through
``edge_shm.app.export.export_run``.
"""
