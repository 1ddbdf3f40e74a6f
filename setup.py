"""Declares the native extensions; all metadata is in pyproject.toml."""
import glob
import os

from Cython.Build import cythonize
from setuptools import Extension, setup

debug = os.environ.get("TAPEGRAD_DEBUG") == "1"
extra_compile_args = [] if os.name == "nt" else ["-Wall", "-Wextra", "-Wno-unused-function"]
if os.name != "nt":
    # Python's own CFLAGS carry -g: debug info would make most of the wheel
    extra_compile_args += ["-O0", "-g"] if debug else ["-g0"]
# TG_DEBUG turns on the C invariant checks of csrc/tg_debug.h (TG_ASSERT); release
# builds compile them out
define_macros = [("TG_DEBUG", "1")] if debug else []

extensions = [
    Extension(
        "tapegrad._engine",
        sources=["src/tapegrad/_engine.pyx", "csrc/tg_tape.c", "csrc/tg_replay.c"],
        include_dirs=["csrc"],
        depends=["csrc/tg_tape.h", "csrc/tg_ops.h", "csrc/tg_record.h", "csrc/tg_replay.h",
                 "src/tapegrad/_tape.pxd", "src/tapegrad/_collect.pxi",
                 "src/tapegrad/_neurons.pxi", "src/tapegrad/_replay.pxi"],
        extra_compile_args=extra_compile_args,
        define_macros=define_macros,
    ),
    Extension(
        "tapegrad._tensor",
        sources=["src/tapegrad/_tensor.pyx", "csrc/tg_kernels.c"],
        include_dirs=["csrc"],
        depends=["csrc/tg_kernels.h", "csrc/tg_debug.h", "src/tapegrad/_kernels.pxd",
                 *glob.glob("src/tapegrad/_tensor_engine/*.pxi")],
        extra_compile_args=extra_compile_args,
        define_macros=define_macros,
    ),
]

setup(
    ext_modules=cythonize(
        extensions,
        # embedsignature: help() and inspect show each method's Python signature
        compiler_directives={"language_level": "3", "embedsignature": True,
                             "embedsignature.format": "python"},
        annotate=os.environ.get("TAPEGRAD_ANNOTATE") == "1",
        # the .pxi of _tensor_engine/ cimport tapegrad's .pxd files by package path
        include_path=["src"],
    ),
)
