"""Evaluation: metrics (paper eq. 8 and crack scores), the two rollout kinds, typed results."""
