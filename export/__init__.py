"""Writers of deployment artefacts (ONNX, NIR, Lava bundle)."""
