"""The Lambda-side runtime: what generated modules and handlers import.

Import-light by design: this package imports only the standard library, and not ``typing`` (see
``dynagen._typing``); botocore is imported when the first client is created. What generated modules
need at run time is imported eagerly; type-only names and the Lambda helpers (multi-account
resolver, client cache, observability, lean transport) load on first use.
"""

from dynagen._typing import TYPE_CHECKING, Any
from dynagen.runtime._api import GENERATED_API, require_api
from dynagen.runtime._codec import (
    decode_error,
    dump_json,
    enc_date,
    enc_decimal,
    enc_float,
    enc_int,
    enc_uuid,
    format_datetime,
    format_epoch,
    from_wire,
    key_error,
    key_part,
    load_json,
    parse_datetime,
    parse_epoch,
    split_key,
    to_wire,
)
from dynagen.runtime._cursor import Cursor, decode_cursor, encode_cursor
from dynagen.runtime._deadline import DEFAULT_MARGIN, Deadline
from dynagen.runtime._expressions import Condition, Field, SortCondition, Update, UpdateAction
from dynagen.runtime._ops import Page, create_table, delete_table, ensure_table
from dynagen.runtime._repository import ModelInfo, Repository, enum_error, key_range, utc_now
from dynagen.runtime._transport import BotocoreTransport, as_transport
from dynagen.runtime._typed import (
    AnyRef,
    BytesRef,
    DatetimeRef,
    JsonRef,
    ListRef,
    MapRef,
    NumberRef,
    OrderedRef,
    RecordRef,
    Ref,
    SetRef,
    StringRef,
    TextRef,
)

# Loaded on first attribute access (PEP 562): what a generated module does not need at import
# (batches, transactions, the Lambda helpers) stays out of cold imports.
_LAZY: dict[str, str] = {
    # Type-only names (generated modules import them for annotations only): they need ``typing``.
    "AttributeValue": "dynagen.runtime._types",
    "Transport": "dynagen.runtime._interface",
    "BatchGetResult": "dynagen.runtime._batch",
    "BatchWriteResult": "dynagen.runtime._batch",
    "TransactAction": "dynagen.runtime._transact",
    "TransactConditionCheck": "dynagen.runtime._transact",
    "TransactDelete": "dynagen.runtime._transact",
    "TransactGet": "dynagen.runtime._transact",
    "TransactPut": "dynagen.runtime._transact",
    "TransactUpdate": "dynagen.runtime._transact",
    "ModelGet": "dynagen.runtime._transactions",
    "transact_get": "dynagen.runtime._transactions",
    "transact_write": "dynagen.runtime._transactions",
    "DEFAULT_REFRESH_BEFORE": "dynagen.runtime._accounts",
    "PartnerLogFilter": "dynagen.runtime._accounts",
    "PartnerResolver": "dynagen.runtime._accounts",
    "install_partner_log_filter": "dynagen.runtime._accounts",
    "redact_secrets": "dynagen.runtime._accounts",
    "use_partner": "dynagen.runtime._accounts",
    "DEFAULT_PARTNERS_ENV": "dynagen.runtime._partners",
    "Partner": "dynagen.runtime._partners",
    "load_partners": "dynagen.runtime._partners",
    "mask_account_ids": "dynagen.runtime._partners",
    "parse_partners": "dynagen.runtime._partners",
    "partners_from_env": "dynagen.runtime._partners",
    "partners_from_json": "dynagen.runtime._partners",
    "partners_from_yaml": "dynagen.runtime._partners",
    "current_partner": "dynagen.runtime._context",
    "ClientFactory": "dynagen.runtime._clients",
    "create_client": "dynagen.runtime._clients",
    "get_client": "dynagen.runtime._clients",
    "get_transport": "dynagen.runtime._clients",
    "guard_retry_sleep": "dynagen.runtime._clients",
    "warm_up": "dynagen.runtime._clients",
    "ClientSettings": "dynagen.runtime._lambda_env",
    "LambdaEnvironment": "dynagen.runtime._lambda_env",
    "TraceHeader": "dynagen.runtime._lambda_env",
    "client_settings": "dynagen.runtime._lambda_env",
    "current_trace_header": "dynagen.runtime._lambda_env",
    "current_trace_id": "dynagen.runtime._lambda_env",
    "detect_lambda": "dynagen.runtime._lambda_env",
    "to_botocore_config": "dynagen.runtime._lambda_env",
    "EmfEmitter": "dynagen.runtime._observe",
    "LogContextFilter": "dynagen.runtime._observe",
    "ObservedTransport": "dynagen.runtime._observe",
    "bind_log_context": "dynagen.runtime._observe",
    "install_log_context": "dynagen.runtime._observe",
    "invocation": "dynagen.runtime._observe",
    "log_context": "dynagen.runtime._observe",
    "metrics_enabled": "dynagen.runtime._observe",
    "record_attempt": "dynagen.runtime._observe",
    "Credentials": "dynagen.runtime._lean",
    "LeanTransport": "dynagen.runtime._lean",
    "RetryPolicy": "dynagen.runtime._lean",
    "clear_clients": "dynagen.runtime._clients",
    "get_default_transport": "dynagen.runtime._clients",
    "get_lean_transport": "dynagen.runtime._clients",
    "transport_kind": "dynagen.runtime._clients",
    "StreamChange": "dynagen.runtime._streams",
    "decode_stream_image": "dynagen.runtime._streams",
    "decode_stream_record": "dynagen.runtime._streams",
    "decode_stream_records": "dynagen.runtime._streams",
    "stream_image_to_item": "dynagen.runtime._streams",
}

if TYPE_CHECKING:
    from dynagen.runtime._accounts import (
        DEFAULT_REFRESH_BEFORE,
        PartnerLogFilter,
        PartnerResolver,
        install_partner_log_filter,
        redact_secrets,
        use_partner,
    )
    from dynagen.runtime._batch import BatchGetResult, BatchWriteResult
    from dynagen.runtime._clients import (
        ClientFactory,
        create_client,
        get_client,
        get_default_transport,
        get_lean_transport,
        get_transport,
        guard_retry_sleep,
        transport_kind,
        warm_up,
    )
    from dynagen.runtime._clients import clear as clear_clients
    from dynagen.runtime._context import current_partner
    from dynagen.runtime._interface import Transport
    from dynagen.runtime._lambda_env import (
        ClientSettings,
        LambdaEnvironment,
        TraceHeader,
        client_settings,
        current_trace_header,
        current_trace_id,
        detect_lambda,
        to_botocore_config,
    )
    from dynagen.runtime._lean import Credentials, LeanTransport, RetryPolicy
    from dynagen.runtime._observe import (
        EmfEmitter,
        LogContextFilter,
        ObservedTransport,
        bind_log_context,
        install_log_context,
        invocation,
        log_context,
        metrics_enabled,
        record_attempt,
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
    from dynagen.runtime._streams import (
        StreamChange,
        decode_stream_image,
        decode_stream_record,
        decode_stream_records,
        stream_image_to_item,
    )
    from dynagen.runtime._transact import (
        TransactAction,
        TransactConditionCheck,
        TransactDelete,
        TransactGet,
        TransactPut,
        TransactUpdate,
    )
    from dynagen.runtime._transactions import ModelGet, transact_get, transact_write
    from dynagen.runtime._types import AttributeValue


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dynagen.runtime' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), "clear" if name == "clear_clients" else name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_MARGIN",
    "DEFAULT_PARTNERS_ENV",
    "DEFAULT_REFRESH_BEFORE",
    "GENERATED_API",
    "AnyRef",
    "AttributeValue",
    "BatchGetResult",
    "BatchWriteResult",
    "BotocoreTransport",
    "BytesRef",
    "ClientFactory",
    "ClientSettings",
    "Condition",
    "Credentials",
    "Cursor",
    "DatetimeRef",
    "Deadline",
    "EmfEmitter",
    "Field",
    "JsonRef",
    "LambdaEnvironment",
    "LeanTransport",
    "ListRef",
    "LogContextFilter",
    "MapRef",
    "ModelGet",
    "ModelInfo",
    "NumberRef",
    "ObservedTransport",
    "OrderedRef",
    "Page",
    "Partner",
    "PartnerLogFilter",
    "PartnerResolver",
    "RecordRef",
    "Ref",
    "Repository",
    "RetryPolicy",
    "SetRef",
    "SortCondition",
    "StreamChange",
    "StringRef",
    "TextRef",
    "TraceHeader",
    "TransactAction",
    "TransactConditionCheck",
    "TransactDelete",
    "TransactGet",
    "TransactPut",
    "TransactUpdate",
    "Transport",
    "Update",
    "UpdateAction",
    "as_transport",
    "bind_log_context",
    "clear_clients",
    "client_settings",
    "create_client",
    "create_table",
    "current_partner",
    "current_trace_header",
    "current_trace_id",
    "decode_cursor",
    "decode_error",
    "decode_stream_image",
    "decode_stream_record",
    "decode_stream_records",
    "delete_table",
    "detect_lambda",
    "dump_json",
    "enc_date",
    "enc_decimal",
    "enc_float",
    "enc_int",
    "enc_uuid",
    "encode_cursor",
    "ensure_table",
    "enum_error",
    "format_datetime",
    "format_epoch",
    "from_wire",
    "get_client",
    "get_default_transport",
    "get_lean_transport",
    "get_transport",
    "guard_retry_sleep",
    "install_log_context",
    "install_partner_log_filter",
    "invocation",
    "key_error",
    "key_part",
    "key_range",
    "load_json",
    "load_partners",
    "log_context",
    "mask_account_ids",
    "metrics_enabled",
    "parse_datetime",
    "parse_epoch",
    "parse_partners",
    "partners_from_env",
    "partners_from_json",
    "partners_from_yaml",
    "record_attempt",
    "redact_secrets",
    "require_api",
    "split_key",
    "stream_image_to_item",
    "to_botocore_config",
    "to_wire",
    "transact_get",
    "transact_write",
    "transport_kind",
    "use_partner",
    "utc_now",
    "warm_up",
]
