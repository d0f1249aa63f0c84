"""Quantisation: float -> Loihi fixed point and int8."""
