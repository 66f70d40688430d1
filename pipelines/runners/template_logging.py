"""Imported first, in the local worker template only: warnings and errors of its workers go to
stderr, as in the CLI, without the notices Beam logs when it is imported
(:class:`binder_core.contract.quiet.QuietDependencies`)."""

from __future__ import annotations

import logging

from binder_core.contract.quiet import QuietDependencies

_handler = logging.StreamHandler()
_handler.setLevel(logging.WARNING)
_handler.addFilter(QuietDependencies())
logging.getLogger().addHandler(_handler)
