"""The adcsim version, kept apart so `adcsim --version` imports nothing else."""

__version__ = "0.1.0"
