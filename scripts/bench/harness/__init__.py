"""Building blocks of the gomodel benchmark harness; `scripts/bench/run.py` puts them together."""
