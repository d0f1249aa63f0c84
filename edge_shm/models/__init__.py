"""Predictors: base SNN, RNN, LSTM and the registry."""
