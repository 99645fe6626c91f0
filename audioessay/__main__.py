"""``python -m audioessay``: the same as the ``audioessay`` command."""

from .cli import main

main()
