"""Build shim so Beam can stage this package to remote workers with ``--setup_file setup.py``.

All metadata lives in pyproject.toml; Beam runs ``python setup.py sdist`` on it.
"""

from setuptools import setup

setup()
