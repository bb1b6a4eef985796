"""``python -m trilink.cli``: the same as the ``trilink`` command."""

from trilink.cli import entry

entry()
