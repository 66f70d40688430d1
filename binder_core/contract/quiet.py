"""What reaches a terminal from the libraries binder-ner runs on: one filter, used by the CLI and
by the local worker template (a process of its own, with no CLI to configure it)."""

from __future__ import annotations

import logging


class QuietDependencies(logging.Filter):
    """Drop third-party start-up chatter (Beam's optional-client notices) below ERROR."""

    def filter(self, record: logging.LogRecord) -> bool:
        from_dependency = "apache_beam" in record.pathname or record.name.startswith(
            ("apache_beam", "absl", "urllib3")
        )
        return not from_dependency or record.levelno >= logging.ERROR
