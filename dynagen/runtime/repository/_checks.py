"""Per model, computed once: which attribute names a condition may use, each key attribute's size
limit, and the messages that name what was meant.
"""

from __future__ import annotations

from dynagen._typing import Any
from dynagen.errors import InvalidValueError
from dynagen.runtime.repository._model import ModelInfo

__all__ = ["check_info", "fields_of", "known_attributes", "refuse_defaulted_key_part", "unknown_attribute"]

# Per model (by identity; the model is kept alive with its entry): attribute -> field names, and every
# key attribute of the table and its indexes. Computed once, on the first write.
_CHECKS: dict[int, tuple[ModelInfo[Any], dict[str, str], dict[str, int]]] = {}


# Per model, likewise: every attribute a condition or filter may name (the model's, the key attributes
# of the table and its indexes, the entity attribute).
_KNOWN: dict[int, tuple[ModelInfo[Any], frozenset[str]]] = {}


# DynamoDB's limits on one key value, in bytes: partition keys (of the table and of global indexes)
# and sort keys (of the table and of every index).
_PARTITION_KEY_BYTES = 2048


_SORT_KEY_BYTES = 1024


def check_info(info: ModelInfo[Any]) -> tuple[dict[str, str], dict[str, int]]:
    """Attribute -> field names, and each key attribute (table and indexes) -> its size limit in bytes."""
    entry = _CHECKS.get(id(info))
    if entry is None or entry[0] is not info:
        names = {attribute: field for field, attribute in info.attributes.items()}
        for attribute, parts in info.key_parts.items():  # a key's errors name the field(s) it is built from
            names.setdefault(attribute, parts[0] if len(parts) == 1 else f"{attribute} ({', '.join(parts)})")
        keys = {info.partition_key: _PARTITION_KEY_BYTES}
        for pk, sk in [(info.partition_key, info.sort_key), *info.indexes.values()]:
            keys[pk] = _PARTITION_KEY_BYTES
            if sk:
                keys.setdefault(sk, _SORT_KEY_BYTES)
        entry = (info, names, keys)
        _CHECKS[id(info)] = entry
    return entry[1], entry[2]


def known_attributes(info: ModelInfo[Any]) -> frozenset[str]:
    entry = _KNOWN.get(id(info))
    if entry is None or entry[0] is not info:
        names, keys = check_info(info)
        known = set(names) | set(keys) | ({info.entity_attribute} if info.entity_attribute else set())
        entry = (info, frozenset(known))
        _KNOWN[id(info)] = entry
    return entry[1]


# Per model, likewise: attribute -> Python field name.
_FIELDS: dict[int, tuple[ModelInfo[Any], dict[str, str]]] = {}


def fields_of(info: ModelInfo[Any]) -> dict[str, str]:
    entry = _FIELDS.get(id(info))
    if entry is None or entry[0] is not info:
        entry = (info, {attribute: field for field, attribute in info.attributes.items()})
        _FIELDS[id(info)] = entry
    return entry[1]


def unknown_attribute(info: ModelInfo[Any], name: str, known: frozenset[str]) -> str:
    """Why ``name`` is not an attribute of the model, with the nearest ones."""
    mapped = info.attributes.get(name)
    if mapped is not None:
        return f"{name!r} is the Python field of attribute {mapped!r}: Field takes stored names, use Field({mapped!r})"
    # Match Python field names too (``partnerid`` -> ``partner_id`` -> ``partnerId``).
    candidates = {a: a for a in sorted(known)} | dict(info.attributes)
    import difflib  # the error path only

    close = difflib.get_close_matches(name, list(candidates), n=1)
    return f"did you mean {candidates[close[0]]!r}?" if close else f"its attributes are {sorted(known)}"


def refuse_defaulted_key_part(info: ModelInfo[Any], name: str) -> None:
    """Refuse removing a field an index key is built from when the field reads back as a default.

    Removing it removes the key (the item leaves the index) while the model still holds the default,
    and the next ``put`` would bring the key back: set the field to that value instead. An optional
    field reads back as None, and leaving the sparse index is what removing it means.
    """
    keys = info.derived.get(name)
    ref = info.refs.get(name)
    if keys and ref is not None and ref._decode is not None and ref._decode(None) is not None:
        raise InvalidValueError(
            name,
            f"{name!r} builds index key {' and '.join(keys)} and reads back as {ref._decode(None)!r} once removed: "
            "set it to that value instead",
        )
