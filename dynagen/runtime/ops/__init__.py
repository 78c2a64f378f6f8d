"""Wire-level DynamoDB operations: stateless functions over a ``Transport`` and wire-format items.

- ``_call``: sending one request within a deadline, and what every request shares;
- ``_items``: single items (get, put, update, delete);
- ``_reads``: queries and scans, a page, every page, counts, parallel scans (``Page``);
- ``_tables``: creating, waiting for and deleting tables;
- ``_batch``: BatchGetItem / BatchWriteItem with chunking, bounded retries and nothing lost;
- ``_transact``: TransactWriteItems / TransactGetItems from small action objects.

The common ones are importable from here (``ops.get_item``); tables load on first use from here
(``ops.ensure_table``: a handler's first request never needs them), batches and transactions on use.
"""

from dynagen._typing import TYPE_CHECKING, Any
from dynagen.runtime.ops._call import call, error_code
from dynagen.runtime.ops._items import delete_item, get_item, put_item, update_item
from dynagen.runtime.ops._reads import (
    Page,
    parallel_scan,
    query,
    query_count,
    query_pages,
    scan,
    scan_count,
    scan_pages,
)

if TYPE_CHECKING:
    from dynagen.runtime.ops._tables import create_table, delete_table, ensure_table

_TABLES = frozenset({"create_table", "delete_table", "ensure_table"})


def __getattr__(name: str) -> Any:
    if name not in _TABLES:
        raise AttributeError(f"module 'dynagen.runtime.ops' has no attribute {name!r}")
    from dynagen.runtime.ops import _tables

    value = getattr(_tables, name)
    globals()[name] = value
    return value

__all__ = [
    "Page",
    "call",
    "create_table",
    "delete_item",
    "delete_table",
    "ensure_table",
    "error_code",
    "get_item",
    "parallel_scan",
    "put_item",
    "query",
    "query_count",
    "query_pages",
    "scan",
    "scan_count",
    "scan_pages",
    "update_item",
]
