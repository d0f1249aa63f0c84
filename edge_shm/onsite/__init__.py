"""On site: frames as a sensor writes them -> forecasts, crack geometry and remaining life.

Torch-free (the torch backend is handed in as a :class:`~edge_shm.firmware_sim.stepper.Stepper`
by the CLI). ``intake`` maps a sensor image to the model's frame, ``streaming`` carries the
network state one step per frame, ``remaining`` turns crack lengths (and cycles) into frames and
cycles to a critical length, ``loop`` ties them into one record per frame, ``dashboard`` serves
the live page, ``outputs`` writes the JSON lines, plots, GIF and report. docs/forecast.md.
"""
