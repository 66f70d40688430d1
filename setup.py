"""Build shim: the optional compiled hot loops, and Beam's ``--setup_file setup.py``.

All metadata lives in pyproject.toml; Beam runs ``python setup.py sdist`` on it. The extensions
are optional: where they cannot be built (no C compiler), ``dictionaries.abbreviations``,
``dictionaries.matcher``, ``pipelines.silver.labeling`` and ``pipelines.silver.shards`` run their
Python code (``pipelines.silver.shards``: pyarrow's), which gives the same results (the tests
compare the two).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(name, [f"{name.replace('.', '/')}.c"], optional=True)
        for name in (
            "dictionaries._abbreviations",
            "dictionaries._matching",
            "pipelines._arrow_spans",
            "pipelines._labeling",
        )
    ]
)
