"""Energy and memory profiler: operation counts, energy per forecast, memory against budgets."""
