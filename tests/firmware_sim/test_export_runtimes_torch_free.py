"""The device-side readers and runtimes of exported artefacts import and run without torch."""


def test_bundle_nir_sim_and_lava_builder_import_without_torch(run_in_lava):
    code = (
        "import sys\n"
        "import edge_shm.firmware_sim.bundle, edge_shm.firmware_sim.nir_sim\n"
        "import edge_shm.firmware_sim.lava.builder, edge_shm.firmware_sim.lava.io\n"
        "import edge_shm.firmware_sim.lava.host, edge_shm.firmware_sim.artefacts\n"
        "import edge_shm.firmware_sim.backends\n"
        "import edge_shm.firmware_sim.onnx_runner, edge_shm.firmware_sim.int_engine\n"
        "import edge_shm.firmware_sim.lava.fixed, edge_shm.calibration.calibrate\n"
        "import numpy as np\n"
        "from edge_shm.neuro.conv import conv2d\n"
        "x = np.zeros((1, 1, 5, 6)); x[0, 0, 2, 3] = 1\n"
        "w = np.arange(9.0).reshape(1, 1, 3, 3)\n"
        "y = conv2d(x, w, None, 1, 1)\n"
        "print(y[0, 0, 1, 2], y[0, 0, 3, 4], 'torch' in sys.modules)"
    )
    out = run_in_lava(["-c", code])
    # cross-correlation: the output at (1, 2) sees the input at (2, 3) through w[2, 2] = 8
    assert out.split() == ["8.0", "0.0", "False"]
