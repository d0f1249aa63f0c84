"""What the spatio-temporal models of the paper's Turing study share (ConvLSTM, PredRNN++,
SimVP, STCLIF): 10 -> 10 windows, patches, a config with a CPU default and the paper's sizes.

Frames enter as non-overlapping ``patch`` x ``patch`` patches stacked on channels (OpenSTL's
``reshape_patch``; torch's ``pixel_unshuffle``): a 200 x 200 frame with patch 4 is a 50 x 50 map
of 16 channels, any H and W divisible by the patch. Every model follows the predictor
contract: ``step(frame, state)`` is the next-frame forecast, ``forward`` the step over time, and
10 -> 10 forecasting feeds each forecast back as the next frame (state carried), in training
(with scheduled sampling, :mod:`edge_shm.training.sequence`) and in evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F

from edge_shm.errors import UserError
from edge_shm.models.base import Capabilities, ModelConfig, positive

WINDOW = (10, 10)


@dataclass
class STConfig(ModelConfig):
    """Hidden channels per layer, kernel (px of the patch map), patch (px); ``size`` records
    the preset the sizes came from (``cpu`` default, ``paper`` for the paper-scale sizes)."""

    hidden: tuple[int, ...] = (16, 16)
    kernel: int = 5
    patch: int = 4
    size: str = "cpu"

    def check(self, where: str) -> None:
        positive(where, hidden=self.hidden, kernel=self.kernel, patch=self.patch)
        if self.kernel % 2 == 0:
            raise UserError(f"{where}: 'kernel' must be odd, got {self.kernel}")
        if self.height % self.patch or self.width % self.patch:
            raise UserError(
                f"{where}: {self.height} x {self.width} px frames do not divide into "
                f"{self.patch} px patches"
            )
        if self.size not in ("cpu", "paper"):
            raise UserError(f"{where}: 'size' must be cpu or paper, not {self.size!r}")


SEQUENCE = Capabilities(spiking=False, targets=("onnx",))


def patches(x, p: int):
    """(B, C, H, W) -> (B, C p^2, H / p, W / p)."""
    return F.pixel_unshuffle(x, p) if p > 1 else x


def unpatch(x, p: int):
    return F.pixel_shuffle(x, p) if p > 1 else x
