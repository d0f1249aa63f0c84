"""The fast tier (`make test-fast`, the tests marked `fast`) holds tests, and none of them uses
the session fixtures that train a run or start Lava (tests/conftest.py): those take minutes.

It reads the tests this pytest session collected (no second collection, no subprocess)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.fast

TESTS = Path(__file__).resolve().parent
# trained runs and the Lava interpreter; the small libraries (crack_lib, mixed_lib_path) take
# about a second each and are allowed
EXPENSIVE = {
    "snn_run_dir",
    "lstm_run_dir",
    "spiking_snn_run",
    "motion_run_dir",
    "lava_python",
    "run_in_lava",
}


def test_the_fast_tier_holds_tests_and_no_trained_run_or_lava(request):
    fast = [item for item in request.session.items if item.get_closest_marker("fast")]
    heavy = {
        item.nodeid: sorted(EXPENSIVE & set(getattr(item, "fixturenames", ()))) for item in fast
    }
    heavy = {name: fixtures for name, fixtures in heavy.items() if fixtures}
    assert not heavy, f"fast tests that use trained runs or Lava: {heavy}"
    config = request.config
    whole = not config.option.keyword and any(
        (config.invocation_params.dir / a.split("::")[0]).resolve() in (TESTS, TESTS.parent)
        for a in config.args
    )
    if whole:  # the whole suite was collected: the tier cannot be just this test
        assert len(fast) > 100, f"only {len(fast)} tests are marked fast"
