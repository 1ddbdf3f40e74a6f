"""The one place tapegrad's version is written: pyproject.toml reads it for the
package metadata (setuptools' dynamic version), and tapegrad.__version__ is it."""
__version__ = "0.1.0"
