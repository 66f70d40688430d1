"""Imported once, in the local worker template only: load the dictionaries it was started
with (:data:`pipelines.runners.worker_pool.DICTIONARIES_ENV`) so that every forked worker has them.

Loading here is an optimisation and never an error: a dictionary that cannot be loaded is left
to the worker that needs it, which reads the file itself and reports what is wrong with it.
"""

from __future__ import annotations

import os

from pipelines.runners.worker_pool import DICTIONARIES_ENV
from pipelines.silver.dictionary_files import preload_dictionaries

preload_dictionaries(os.environ.get(DICTIONARIES_ENV, "").split(os.pathsep))
