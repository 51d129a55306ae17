"""``python -m havenflow``: the same command line as ``havenflow``."""

from havenflow.cli import main

if __name__ == "__main__":
    main()
