"""Training: the window dataset, losses, run folders (checkpoints) and the loop."""

from edge_shm.runs import load_run
from edge_shm.training.config import TrainConfig
from edge_shm.training.loop import train

__all__ = ["TrainConfig", "load_run", "train"]
