"""A Lava sink that writes what it received to a .npy file at its last step (needs lava-nc).

Lava's ``RingBuffer`` sink is read back with ``Var.get()``, which ships one number per message
(minutes for a 96 x 132 x 17 spike buffer). ``NpySink`` keeps its buffer inside its own process
model and saves it with numpy when the run reaches ``buffer`` steps; binary sinks store bools.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol


class NpySink(AbstractProcess):
    """Records ``a_in`` at every step into (steps, *shape); saves it to ``path`` at the end."""

    def __init__(self, *, shape: tuple, buffer: int, path: str, binary: bool = False) -> None:
        super().__init__(shape=shape, buffer=buffer, path=str(path), binary=binary)
        self.a_in = InPort(shape=shape)


@implements(proc=NpySink, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyNpySinkFloat(PyLoihiProcessModel):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self.path = proc_params["path"]
        self.buffer = int(proc_params["buffer"])
        self.binary = bool(proc_params["binary"])
        dtype = bool if self.binary else np.float64
        self.record = np.zeros((self.buffer, *proc_params["shape"]), dtype)

    def run_spk(self) -> None:
        x = self.a_in.recv()
        k = self.time_step - 1
        if k < self.buffer:
            self.record[k] = x > 0.5 if self.binary else x
        if k == self.buffer - 1:
            np.save(self.path, self.record)
