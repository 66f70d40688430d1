"""Build shim: the optional compiled abbreviation finder, and Beam's ``--setup_file setup.py``.

All metadata lives in pyproject.toml; Beam runs ``python setup.py sdist`` on it. The extension is
optional: where it cannot be built (no C compiler), ``dictionaries.abbreviations`` runs its
Python code, which gives the same results.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "dictionaries._abbreviations", ["dictionaries/_abbreviations.c"], optional=True
        )
    ]
)
