"""``python -m adcsim``: the command line."""

from adcsim.cli import run

if __name__ == "__main__":
    run()
