"""Turing-pattern digital library: the Gray-Scott model of the paper's eqs. (3) and (4).

du/dt = Du lap(u) - u v^2 + f (1 - u),  dv/dt = Dv lap(v) + u v^2 - (f + k) v,
with Du = 0.12, Dv = 0.08, f = 0.020, k = 0.050 (dimensionless; pixel 1 mm as in the paper).

Numerics: forward Euler, dt = 1, dx = 1, 5-point Laplacian (stable for dt <= 2.08 at these
diffusivities). Border: Dirichlet u = v = 0 on a one-pixel frame around the domain. With these
parameters a periodic domain seeded with one square decays to the trivial state u = 1, v = 0,
while the zero border keeps feeding waves ("spirals dense"), so the patterns persist.

Initial condition: u = 1, v = 0 everywhere, then ``n_seeds`` squares of side ``seed_size`` at
random positions set to u = 0.5, v = 0.25, plus uniform noise of amplitude ``noise`` on both
fields, all drawn from the seeded generator. Frame 0 is that initial state; frame t is the state
after t * ``steps_per_frame`` solver steps. Saved frames are v, which lies in [0, 1]. The paper's
window count (10 samples x 48 windows of 20 frames) implies 67 usable frames of 68, so windows
skip frame 0 (the library says so in its ``window_skip`` attribute).
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, fields
from typing import Annotated

import numpy as np

from edge_shm.data.generators.streams import sample_rng
from edge_shm.errors import UserError


@dataclass(frozen=True)
class TuringParams:
    """Gray-Scott parameters and the sampling of the library; units in the annotations.

    du, dv, feed, kill: diffusivities of u and v, feed and kill rates (the paper's values);
    size, dt, dx: grid side and the forward-Euler step and spacing; n_frames (frame 0 is the
    initial state), steps_per_frame: solver steps between frames; n_seeds, seed_size, noise:
    the random initial condition; pixel_mm: the paper's 1 mm grid.
    """

    du: Annotated[float, "1"] = 0.12
    dv: Annotated[float, "1"] = 0.08
    feed: Annotated[float, "1"] = 0.020
    kill: Annotated[float, "1"] = 0.050
    size: Annotated[int, "px"] = 200
    dt: Annotated[float, "1"] = 1.0
    dx: Annotated[float, "1"] = 1.0
    n_frames: Annotated[int, "frames"] = 68
    steps_per_frame: Annotated[int, "steps"] = 40
    n_seeds: Annotated[int, "1"] = 6
    seed_size: Annotated[int, "px"] = 10
    noise: Annotated[float, "1"] = 0.02
    pixel_mm: Annotated[float, "mm"] = 1.0

    def units(self) -> dict[str, str]:
        """Each parameter's unit, from its annotation."""
        hints = typing.get_type_hints(type(self), include_extras=True)
        return {f.name: hints[f.name].__metadata__[0] for f in fields(self)}

    def validate(self) -> None:
        """Refuse parameters the generator cannot honour (one line each)."""
        if not (self.seed_size + 2 <= self.size <= 4096):
            raise UserError(
                f"--size must lie in {self.seed_size + 2}..4096 px (seeds are {self.seed_size} "
                f"px squares), got {self.size}"
            )
        if not 21 <= self.n_frames <= 100_000:
            raise UserError(
                f"--frames must lie in 21..100000 (10-in/10-out windows after frame 0), "
                f"got {self.n_frames}"
            )
        if self.steps_per_frame < 1 or self.n_seeds < 0 or self.dx <= 0 or self.dt <= 0:
            raise UserError("steps per frame, dx and dt must be positive")


def laplacian_dirichlet(a: np.ndarray, dx: float = 1.0) -> np.ndarray:
    """5-point Laplacian of ``a`` (H, W) with a zero value outside the domain."""
    p = np.pad(a, 1)
    return (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * a) / (dx * dx)


def step(u: np.ndarray, v: np.ndarray, p: TuringParams) -> tuple[np.ndarray, np.ndarray]:
    """One forward-Euler step of the Gray-Scott equations."""
    uvv = u * v * v
    u_new = u + p.dt * (p.du * laplacian_dirichlet(u, p.dx) - uvv + p.feed * (1 - u))
    v_new = v + p.dt * (p.dv * laplacian_dirichlet(v, p.dx) + uvv - (p.feed + p.kill) * v)
    return u_new, v_new


def initial_state(rng: np.random.Generator, p: TuringParams) -> tuple[np.ndarray, np.ndarray]:
    u = np.ones((p.size, p.size))
    v = np.zeros((p.size, p.size))
    for _ in range(p.n_seeds):
        r, c = rng.integers(0, p.size - p.seed_size, size=2)
        u[r : r + p.seed_size, c : c + p.seed_size] = 0.5
        v[r : r + p.seed_size, c : c + p.seed_size] = 0.25
    u += p.noise * rng.uniform(-1, 1, u.shape)
    v += p.noise * rng.uniform(-1, 1, v.shape)
    return u, np.clip(v, 0, None)


def simulate_sample(rng: np.random.Generator, p: TuringParams) -> np.ndarray:
    """(n_frames, size, size) float32 frames of v for one random initial condition."""
    u, v = initial_state(rng, p)
    frames = np.empty((p.n_frames, p.size, p.size), dtype=np.float32)
    for t in range(p.n_frames):
        if t:
            for _ in range(p.steps_per_frame):
                u, v = step(u, v, p)
        frames[t] = np.clip(v, 0.0, 1.0)
    return frames


def generate(
    n_samples: int, seed: int, p: TuringParams | None = None, progress=None, first: int = 0
):
    """Simulate Turing sequences ``first`` to ``first + n_samples - 1`` (sample i draws from
    :func:`sample_rng` (seed, i) only); returns frames (N, T, size, size) and physics."""
    p = p or TuringParams()
    if n_samples <= 0:
        raise UserError(f"--samples must be a positive integer, got {n_samples}")
    if p.dt * 4 * max(p.du, p.dv) / p.dx**2 > 1.0:
        raise UserError(f"dt = {p.dt} is above the forward-Euler stability limit")
    frames = np.empty((n_samples, p.n_frames, p.size, p.size), dtype=np.float32)
    for i in range(n_samples):
        frames[i] = simulate_sample(sample_rng(seed, first + i), p)
        if progress is not None:
            progress()
    return frames, {}
