"""The base of every generated repository: lifecycle stamping, versioning, entity filtering.

Generated subclasses add the typed surface (``get(**key)``, one method per access pattern) and a
``ModelInfo`` that tells this class, once, everything it needs about the model: no reflection at
run time. Requests go through the stateless wire-level functions of ``dynagen.runtime.ops``.
"""

from __future__ import annotations

from dynagen.runtime.repository._actions import Transactions
from dynagen.runtime.repository._base import RepositoryBase
from dynagen.runtime.repository._batches import Batches
from dynagen.runtime.repository._key_range import key_range
from dynagen.runtime.repository._model import M, ModelInfo, utc_now
from dynagen.runtime.repository._reads import Reads

__all__ = ["ModelInfo", "Repository", "RepositoryBase", "key_range", "utc_now"]


class Repository(Reads[M], Batches[M], Transactions[M]):
    """Typed access to one model's items. Cheap to create; hold one per handler (or per partner).

    The operations come one concern a class: ``Reads`` (``_reads``), ``Writes`` (``_writes``),
    ``KeyUpdates`` (``_key_updates``), ``Batches`` (``_batches``) and ``Transactions``
    (``_actions``), over ``RepositoryBase`` (``_base``).
    """

    __slots__ = ()
