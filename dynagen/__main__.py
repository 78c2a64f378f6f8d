"""``python -m dynagen``: the same program as the ``dynagen`` command."""

from dynagen.cli import run

if __name__ == "__main__":
    run()
