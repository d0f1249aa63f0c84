"""Calibration to the deployed precision, imported as ``edge_shm.calibration`` (torch-free).

``calibrate.calibrate(graph, sequences, "loihi" | "int8")`` maps a float deployment graph to a
:class:`~edge_shm.firmware_sim.fixed_graph.FixedGraph` of integers (Loihi 2 fixed point as
Lava's bit-accurate models compute it, or int8 weights / int32 accumulators / int16 membranes
for a microcontroller), with a per-layer report and the window and pixel size the run was
trained for. ``firmware_sim/int_engine.py`` runs it; docs/calibration.md.
"""
