"""Build shim: the compiled hot loops, and Beam's ``--setup_file setup.py``.

All metadata lives in pyproject.toml; Beam runs ``python setup.py sdist`` on it. The extensions
compile with warnings as errors (``-Wall -Werror`` on gcc and clang). They stay optional for
the install, so that a machine without a C compiler still installs the package and runs the
same Python code (``dictionaries.abbreviations``, ``dictionaries.matcher``,
``pipelines.silver.labeling`` and ``pipelines.silver.shards``, the latter through pyarrow); the
test suite then fails (``tests/test_compiled_extensions.py``) unless ``BINDER_PURE_PYTHON=1``
says that the pure-Python install is meant.
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

EXTENSIONS = (
    "dictionaries._abbreviations",
    "dictionaries._matching",
    "pipelines._arrow_spans",
    "pipelines._labeling",
)


class StrictBuildExt(build_ext):
    """Warnings are errors where the compiler understands the flags."""

    def build_extensions(self) -> None:
        if self.compiler.compiler_type == "unix":
            for extension in self.extensions:
                extension.extra_compile_args = [*extension.extra_compile_args, "-Wall", "-Werror"]
        super().build_extensions()


setup(
    ext_modules=[
        Extension(name, [f"{name.replace('.', '/')}.c"], optional=True) for name in EXTENSIONS
    ],
    cmdclass={"build_ext": StrictBuildExt},
)
