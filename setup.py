"""Declares the native extensions; all metadata is in pyproject.toml."""
import glob
import hashlib
import os

import Cython
from Cython.Build import cythonize
from Cython.Build.Dependencies import create_dependency_tree
from setuptools import Extension, setup

debug = os.environ.get("TAPEGRAD_DEBUG") == "1"
# -ffp-contract=off: Python rounds a * b and then + c, and micrograd's numbers are Python's;
# GCC would otherwise fuse them into one fma wherever the target has it (aarch64 always,
# x86-64 with -march=native), and gradients would differ from micrograd's in the last bit
extra_compile_args = ([] if os.name == "nt"
                      else ["-Wall", "-Wextra", "-Wno-unused-function", "-ffp-contract=off"])
if os.name != "nt":
    # Python's own CFLAGS carry -g: debug info would make most of the wheel
    extra_compile_args += ["-O0", "-g"] if debug else ["-g0"]
# TG_DEBUG turns on the C invariant checks of csrc/tg_debug.h (TG_ASSERT); release
# builds compile them out
define_macros = [("TG_DEBUG", "1")] if debug else []

extensions = [
    Extension(
        "tapegrad._engine",
        sources=["src/tapegrad/_engine.pyx", "csrc/tg_tape.c", "csrc/tg_replay.c",
                 "csrc/tg_replay_run.c"],
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

# embedsignature: help() and inspect show each method's Python signature
compiler_directives = {"language_level": "3", "embedsignature": True,
                       "embedsignature.format": "python"}
annotate = os.environ.get("TAPEGRAD_ANNOTATE") == "1"
# the two modules are translated and compiled side by side: _tensor's C alone takes
# minutes, and every fresh install (CI runs three) would otherwise wait for both in turn
build_workers = min(len(extensions), os.cpu_count() or 1)


def cython_inputs_fingerprint(pyx):
    """A hash of what a module's C depends on beyond timestamps: the .pyx and every
    .pxd/.pxi it reaches (Cython's own dependency tree), Cython's version and
    directives, and the C flags (so switching TAPEGRAD_DEBUG or CFLAGS regenerates the
    .c, which makes the compiler run again)."""
    flavour = (Cython.__version__, sorted(compiler_directives.items()), debug,
               os.environ.get("CFLAGS", ""))
    digest = hashlib.sha256(repr(flavour).encode())
    ours = os.path.abspath("src")
    inputs = create_dependency_tree().all_dependencies(pyx)
    for path in sorted(os.path.abspath(p) for p in inputs):
        if path.startswith(ours):
            with open(path, "rb") as source:
                digest.update(os.path.relpath(path).encode() + b"\0" + source.read())
    return digest.hexdigest()


def cythonize_changed(extensions):
    """Cythonize only the extensions whose inputs changed since their .c was made.

    pip builds each install in a fresh isolated environment, whose Cython headers are
    newer than our .c, so Cython's own timestamp test regenerates every .c, and the C
    compiler then rebuilds what build/ already holds. Comparing content instead lets a
    second install of the same tree (the README's test command after its demo command)
    reuse the first one's build.
    """
    stamp_dir = os.path.join("build", "cython-inputs")
    reused, stale = [], []
    fingerprints = {}
    for ext in extensions:
        generated = ext.sources[0][: -len(".pyx")] + ".c"
        stamp = os.path.join(stamp_dir, ext.name)
        fingerprints[ext.name] = cython_inputs_fingerprint(ext.sources[0])
        if not annotate and os.path.exists(generated) and os.path.exists(stamp):
            with open(stamp) as recorded:
                if recorded.read() == fingerprints[ext.name]:
                    ext.sources[0] = generated
                    reused.append(ext)
                    continue
        stale.append(ext)
    if not stale:
        return reused
    built = cythonize(stale, compiler_directives=compiler_directives, annotate=annotate,
                      # the .pxi of _tensor_engine/ cimport tapegrad's .pxd files by package path
                      include_path=["src"], force=True, nthreads=build_workers)
    os.makedirs(stamp_dir, exist_ok=True)
    for ext in stale:
        with open(os.path.join(stamp_dir, ext.name), "w") as stamp:
            stamp.write(fingerprints[ext.name])
    return reused + built


setup(ext_modules=cythonize_changed(extensions),
      options={"build_ext": {"parallel": build_workers}})
