"""``Transport``: the one narrow interface repositories call to reach DynamoDB.

Its own module because ``typing.Protocol`` needs ``typing`` at run time, which the cold path of a
Lambda function otherwise never imports (see ``dynagen._typing``): the runtime names ``Transport``
in annotations only, and this module loads when someone uses it at run time (``isinstance``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dynagen.runtime.transport._bounds import Deadline

__all__ = ["Transport"]


@runtime_checkable
class Transport(Protocol):
    """Operation name and wire-format request in, wire-format response out."""

    def call(self, operation: str, request: Mapping[str, Any], *, deadline: Deadline | None = None) -> dict[str, Any]:
        """Send one request. With a deadline, no attempt (first or retry) starts once it has passed."""
        ...
