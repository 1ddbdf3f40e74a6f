"""Sphinx settings for tapegrad's API reference: .ci/docs builds it with warnings as errors."""
import tapegrad

project = "tapegrad"
author = "tapegrad developers"
release = version = tapegrad.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon"]
autodoc_default_options = {"members": True, "undoc-members": True}
autodoc_member_order = "bysource"
# the compiled modules' docstrings start with their signatures (Cython's embedsignature)
autodoc_docstring_signature = True
nitpicky = False
html_theme = "alabaster"
exclude_patterns = ["_build"]
