"""The parts of scripts/bench.py, the deadline-day benchmark (see its docstring)."""
