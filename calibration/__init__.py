"""Quantisation (float -> Loihi fixed point and int8), imported as ``edge_shm.calibration``.

Reserved by the layout of DESIGN.md section 2; it holds no code yet. The export path is
floating point today (``Loihi2SimCfg(select_tag="floating_pt")``).
"""
