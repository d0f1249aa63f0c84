"""Gray-Scott physics and the persistence of the Turing library."""

import numpy as np
import pytest

from edge_shm.data.generators import turing


@pytest.mark.fast
def test_laplacian_of_quadratic_is_constant_inside():
    y, x = np.mgrid[0:20, 0:20].astype(float)
    lap = turing.laplacian_dirichlet(x**2 + 3 * y**2)
    assert np.allclose(lap[1:-1, 1:-1], 2 + 6)


@pytest.mark.fast
def test_homogeneous_trivial_state_is_a_fixed_point_of_the_reaction():
    p = turing.TuringParams(size=16)
    u, v = np.ones((16, 16)), np.zeros((16, 16))
    # Interior of the trivial state u=1, v=0 is stationary (only the border feels the Dirichlet 0).
    u2, v2 = turing.step(u, v, p)
    assert np.allclose(u2[2:-2, 2:-2], 1.0) and np.allclose(v2, 0.0)


@pytest.mark.fast
def test_reaction_terms_match_equations():
    p = turing.TuringParams(size=8, du=0.0, dv=0.0)
    u, v = np.full((8, 8), 0.6), np.full((8, 8), 0.3)
    u2, v2 = turing.step(u, v, p)
    assert np.allclose(u2, 0.6 + (-0.6 * 0.09 + 0.02 * 0.4))
    assert np.allclose(v2, 0.3 + (0.6 * 0.09 - 0.07 * 0.3))


@pytest.mark.fast
def test_unstable_time_step_is_refused():
    from edge_shm.errors import UserError

    with pytest.raises(UserError):
        turing.generate(1, 0, turing.TuringParams(dt=3.0))


def test_patterns_persist_at_the_last_frame_for_every_sample():
    frames, _ = turing.generate(15, seed=0)  # the default library: 15 x 68 frames, 200 x 200
    assert frames.shape == (15, 68, 200, 200)
    for sample in frames:
        last = sample[-1]
        assert last.std() > 0.05, "pattern died out"
        assert last.max() - last.min() > 0.2
        assert 0.0 <= last.min() and last.max() <= 1.0
