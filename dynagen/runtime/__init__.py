"""The Lambda-side runtime: what generated modules and handlers import.

Import-light by design: this package imports only the standard library; botocore is imported when
the first client is created. What generated modules need is imported eagerly; the Lambda helpers
(multi-account resolver, client cache, observability, lean transport) load on first use.
"""

from typing import TYPE_CHECKING, Any

from dynagen.runtime._codec import (
    decode_error,
    dump_json,
    enc_decimal,
    enc_float,
    enc_int,
    format_datetime,
    format_epoch,
    from_wire,
    key_part,
    load_json,
    parse_datetime,
    parse_epoch,
    to_wire,
)
from dynagen.runtime._cursor import Cursor, decode_cursor, encode_cursor
from dynagen.runtime._deadline import DEFAULT_MARGIN, Deadline
from dynagen.runtime._expressions import Condition, Field, SortCondition, Update
from dynagen.runtime._ops import Page
from dynagen.runtime._repository import ModelInfo, Repository, key_range, utc_now
from dynagen.runtime._transport import BotocoreTransport, Transport, as_transport
from dynagen.runtime._types import AttributeValue

# name -> module that defines it, imported on first attribute access (PEP 562)
_LAZY = {
    **dict.fromkeys(
        ("DEFAULT_REFRESH_BEFORE", "PartnerLogFilter", "PartnerResolver", "current_partner",
         "install_partner_log_filter", "redact_secrets", "use_partner"),
        "dynagen.runtime._accounts",
    ),
    **dict.fromkeys(
        ("DEFAULT_PARTNERS_ENV", "Partner", "load_partners", "mask_account_ids", "parse_partners",
         "partners_from_env", "partners_from_json", "partners_from_yaml"),
        "dynagen.runtime._partners",
    ),
}  # fmt: skip

if TYPE_CHECKING:
    from dynagen.runtime._accounts import (
        DEFAULT_REFRESH_BEFORE,
        PartnerLogFilter,
        PartnerResolver,
        current_partner,
        install_partner_log_filter,
        redact_secrets,
        use_partner,
    )
    from dynagen.runtime._partners import (
        DEFAULT_PARTNERS_ENV,
        Partner,
        load_partners,
        mask_account_ids,
        parse_partners,
        partners_from_env,
        partners_from_json,
        partners_from_yaml,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dynagen.runtime' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_MARGIN",
    "DEFAULT_PARTNERS_ENV",
    "DEFAULT_REFRESH_BEFORE",
    "Partner",
    "PartnerLogFilter",
    "PartnerResolver",
    "current_partner",
    "install_partner_log_filter",
    "load_partners",
    "mask_account_ids",
    "parse_partners",
    "partners_from_env",
    "partners_from_json",
    "partners_from_yaml",
    "redact_secrets",
    "use_partner",
    "AttributeValue",
    "BotocoreTransport",
    "Condition",
    "Cursor",
    "Deadline",
    "Field",
    "ModelInfo",
    "Page",
    "Repository",
    "SortCondition",
    "Transport",
    "Update",
    "as_transport",
    "decode_cursor",
    "decode_error",
    "dump_json",
    "enc_decimal",
    "enc_float",
    "enc_int",
    "encode_cursor",
    "format_datetime",
    "format_epoch",
    "from_wire",
    "key_part",
    "key_range",
    "load_json",
    "parse_datetime",
    "parse_epoch",
    "to_wire",
    "utc_now",
]
