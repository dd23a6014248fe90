"""``python -m adcsim``: the command line."""

from adcsim.cli import main

if __name__ == "__main__":
    main()
