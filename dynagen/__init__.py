"""dynagen: DynamoDB schemas compiled into static, typed Python.

Importing this package is cheap: the compiler (Jinja2, PyYAML) lives in ``dynagen.compiler`` and the
Lambda-side runtime in ``dynagen.runtime``; neither is imported here.
"""

from dynagen._version import __version__

__all__ = ["__version__"]
