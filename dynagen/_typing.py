"""The few ``typing`` names the runtime uses at run time, without importing ``typing``.

``import typing`` costs about 5 ms of every Lambda cold start (it builds hundreds of objects), and
the runtime only needs it for annotations, which type checkers read and Python never evaluates here
(every module has ``from __future__ import annotations``). Type checkers see the real ``typing``
names (the ``TYPE_CHECKING`` branch below; mypy and pyright treat any ``TYPE_CHECKING`` as true);
at run time these stand-ins do the little that is left:

- ``Generic``: subscripting a class gives a ``types.GenericAlias`` (the mechanism of ``list[int]``),
  so ``class PaymentRepository(Repository[Payment])`` and ``Page[Payment]`` work as they do with
  ``typing.Generic``; ``typing.get_args``/``get_origin`` read them too.
- ``TypeVar``: only a name to subscript ``Generic`` with.
- ``Any``: ``object``, for the few type aliases evaluated at import (``Item = dict[str, Any]``).
- ``cast``: returns its value. ``overload``: returns the function (the implementation that follows
  replaces it, as with ``typing.overload``).

Code that wants the real ``typing`` objects (``get_type_hints`` on the runtime's classes, say)
imports ``typing`` itself; nothing here stops it.
"""

from __future__ import annotations

__all__ = ["TYPE_CHECKING", "Any", "Generic", "TypeVar", "cast", "overload"]

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any as Any
    from typing import Generic as Generic
    from typing import TypeVar as TypeVar
    from typing import cast as cast
    from typing import overload as overload
else:
    from types import GenericAlias

    Any = object

    class Generic:
        """Subscriptable base: ``Repository[Payment]`` is a ``types.GenericAlias`` of ``Repository``."""

        __slots__ = ()
        __class_getitem__ = classmethod(GenericAlias)

    def TypeVar(name, *constraints, **options):
        return name

    def cast(typ, value):
        return value

    def overload(function):
        return function
