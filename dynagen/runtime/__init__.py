"""The Lambda-side runtime: what generated modules and handlers import.

Import-light by design: this package imports only the standard library, and not ``typing`` (see
``dynagen._typing``); botocore is imported when the first client is created. What generated modules
need at run time is imported eagerly; type-only names and the Lambda helpers (multi-account
resolver, client cache, observability, lean transport) load on first use.
"""

from dynagen._typing import TYPE_CHECKING, Any
from dynagen.runtime._api import GENERATED_API, require_api
from dynagen.runtime.ops._reads import Page
from dynagen.runtime.repository._model import FACTORY
from dynagen.runtime.repository._repository import ModelInfo, Repository, key_range, utc_now
from dynagen.runtime.transport._bounds import DEFAULT_MARGIN, Deadline
from dynagen.runtime.wire._expressions import Condition, Field, SortCondition, Update, UpdateAction
from dynagen.runtime.wire._json import dump_json, from_wire, load_json, to_wire
from dynagen.runtime.wire._keys import key_datetime, key_decimal, key_error, key_int, key_part, key_unset, split_key
from dynagen.runtime.wire._typed import (
    AnyRef,
    BytesRef,
    DatetimeRef,
    JsonRef,
    ListRef,
    MapRef,
    NumberRef,
    OrderedRef,
    Projection,
    RecordRef,
    Ref,
    SetRef,
    StringRef,
    TextRef,
)
from dynagen.runtime.wire._values import (
    as_list,
    as_map,
    as_record,
    decode_error,
    enc_bs,
    enc_date,
    enc_decimal,
    enc_float,
    enc_int,
    enc_ns,
    enc_null,
    enc_ss,
    enc_uuid,
    enum_error,
    enum_value,
    expect,
    format_datetime,
    format_epoch,
    parse_datetime,
    parse_epoch,
)

# Loaded on first attribute access (PEP 562): what a generated module does not need at import
# (batches, transactions, the Lambda helpers) stays out of cold imports.
_LAZY: dict[str, str] = {
    # Not on a handler's way to its first GetItem: tables, cursors, and the botocore transport module.
    "create_table": "dynagen.runtime.ops._tables",
    "delete_table": "dynagen.runtime.ops._tables",
    "ensure_table": "dynagen.runtime.ops._tables",
    "Cursor": "dynagen.runtime.wire._cursor",
    "decode_cursor": "dynagen.runtime.wire._cursor",
    "encode_cursor": "dynagen.runtime.wire._cursor",
    "BotocoreTransport": "dynagen.runtime.transport._botocore",
    "as_transport": "dynagen.runtime.transport._botocore",
    # Type-only names (generated modules import them for annotations only): they need ``typing``.
    "AttributeValue": "dynagen.runtime.wire._types",
    "Transport": "dynagen.runtime.transport._interface",
    "BatchGetResult": "dynagen.runtime.ops._batch",
    "BatchWriteResult": "dynagen.runtime.ops._batch",
    "TransactAction": "dynagen.runtime.ops._transact",
    "TransactConditionCheck": "dynagen.runtime.ops._transact",
    "TransactDelete": "dynagen.runtime.ops._transact",
    "TransactGet": "dynagen.runtime.ops._transact",
    "TransactPut": "dynagen.runtime.ops._transact",
    "TransactUpdate": "dynagen.runtime.ops._transact",
    "ModelGet": "dynagen.runtime.repository._transactions",
    "transact_get": "dynagen.runtime.repository._transactions",
    "transact_write": "dynagen.runtime.repository._transactions",
    "DEFAULT_REFRESH_BEFORE": "dynagen.runtime.accounts._sts",
    "PartnerLogFilter": "dynagen.runtime.accounts._redaction",
    "PartnerResolver": "dynagen.runtime.accounts._resolver",
    "install_partner_log_filter": "dynagen.runtime.accounts._redaction",
    "redact_secrets": "dynagen.runtime.accounts._redaction",
    "use_partner": "dynagen.runtime.aws_lambda._context",
    "DEFAULT_PARTNERS_ENV": "dynagen.runtime.accounts._partners",
    "Partner": "dynagen.runtime.accounts._partners",
    "load_partners": "dynagen.runtime.accounts._partners",
    "mask_account_ids": "dynagen.runtime.accounts._partners",
    "parse_partners": "dynagen.runtime.accounts._partners",
    "partners_from_env": "dynagen.runtime.accounts._partners",
    "partners_from_json": "dynagen.runtime.accounts._partners",
    "partners_from_yaml": "dynagen.runtime.accounts._partners",
    "current_partner": "dynagen.runtime.aws_lambda._context",
    "ClientFactory": "dynagen.runtime.aws_lambda._clients",
    "create_client": "dynagen.runtime.aws_lambda._clients",
    "get_client": "dynagen.runtime.aws_lambda._clients",
    "get_transport": "dynagen.runtime.aws_lambda._clients",
    "guard_retry_sleep": "dynagen.runtime.transport._botocore_retry",
    "warm_up": "dynagen.runtime.aws_lambda._clients",
    "ClientSettings": "dynagen.runtime.aws_lambda._environment",
    "LambdaEnvironment": "dynagen.runtime.aws_lambda._environment",
    "TraceHeader": "dynagen.runtime.aws_lambda._environment",
    "client_settings": "dynagen.runtime.aws_lambda._environment",
    "current_trace_header": "dynagen.runtime.aws_lambda._environment",
    "current_trace_id": "dynagen.runtime.aws_lambda._environment",
    "detect_lambda": "dynagen.runtime.aws_lambda._environment",
    "to_botocore_config": "dynagen.runtime.aws_lambda._environment",
    "EmfEmitter": "dynagen.runtime.aws_lambda._observe",
    "LogContextFilter": "dynagen.runtime.aws_lambda._observe",
    "ObservedTransport": "dynagen.runtime.aws_lambda._observe",
    "bind_log_context": "dynagen.runtime.aws_lambda._observe",
    "install_log_context": "dynagen.runtime.aws_lambda._observe",
    "invocation": "dynagen.runtime.aws_lambda._observe",
    "log_context": "dynagen.runtime.aws_lambda._observe",
    "metrics_enabled": "dynagen.runtime.aws_lambda._observe",
    "record_attempt": "dynagen.runtime.aws_lambda._observe",
    "Credentials": "dynagen.runtime.transport.lean",
    "LeanTransport": "dynagen.runtime.transport.lean",
    "RetryPolicy": "dynagen.runtime.transport.lean",
    "clear_clients": "dynagen.runtime.aws_lambda._clients",
    "get_default_transport": "dynagen.runtime.aws_lambda._clients",
    "get_lean_transport": "dynagen.runtime.aws_lambda._clients",
    "transport_kind": "dynagen.runtime.aws_lambda._clients",
    "StreamChange": "dynagen.runtime.wire._streams",
    "decode_stream_image": "dynagen.runtime.wire._streams",
    "decode_stream_record": "dynagen.runtime.wire._streams",
    "decode_stream_records": "dynagen.runtime.wire._streams",
    "stream_image_to_item": "dynagen.runtime.wire._streams",
}

if TYPE_CHECKING:
    from dynagen.runtime.accounts._partners import (
        DEFAULT_PARTNERS_ENV,
        Partner,
        load_partners,
        mask_account_ids,
        parse_partners,
        partners_from_env,
        partners_from_json,
        partners_from_yaml,
    )
    from dynagen.runtime.accounts._redaction import PartnerLogFilter, install_partner_log_filter, redact_secrets
    from dynagen.runtime.accounts._resolver import PartnerResolver
    from dynagen.runtime.accounts._sts import DEFAULT_REFRESH_BEFORE
    from dynagen.runtime.aws_lambda._clients import (
        ClientFactory,
        create_client,
        get_client,
        get_default_transport,
        get_lean_transport,
        get_transport,
        transport_kind,
        warm_up,
    )
    from dynagen.runtime.aws_lambda._clients import clear as clear_clients
    from dynagen.runtime.aws_lambda._context import current_partner, use_partner
    from dynagen.runtime.aws_lambda._environment import (
        ClientSettings,
        LambdaEnvironment,
        TraceHeader,
        client_settings,
        current_trace_header,
        current_trace_id,
        detect_lambda,
        to_botocore_config,
    )
    from dynagen.runtime.aws_lambda._observe import (
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
    from dynagen.runtime.ops._batch import BatchGetResult, BatchWriteResult
    from dynagen.runtime.ops._tables import create_table, delete_table, ensure_table
    from dynagen.runtime.ops._transact import (
        TransactAction,
        TransactConditionCheck,
        TransactDelete,
        TransactGet,
        TransactPut,
        TransactUpdate,
    )
    from dynagen.runtime.repository._transactions import ModelGet, transact_get, transact_write
    from dynagen.runtime.transport._botocore import BotocoreTransport, as_transport
    from dynagen.runtime.transport._botocore_retry import guard_retry_sleep
    from dynagen.runtime.transport._interface import Transport
    from dynagen.runtime.transport.lean import Credentials, LeanTransport, RetryPolicy
    from dynagen.runtime.wire._cursor import Cursor, decode_cursor, encode_cursor
    from dynagen.runtime.wire._streams import (
        StreamChange,
        decode_stream_image,
        decode_stream_record,
        decode_stream_records,
        stream_image_to_item,
    )
    from dynagen.runtime.wire._types import AttributeValue


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
    "FACTORY",
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
    "Projection",
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
    "as_list",
    "as_map",
    "as_record",
    "enc_bs",
    "enc_date",
    "enc_decimal",
    "enc_float",
    "enc_int",
    "enc_ns",
    "enc_null",
    "enc_ss",
    "enc_uuid",
    "encode_cursor",
    "ensure_table",
    "enum_error",
    "enum_value",
    "expect",
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
    "key_datetime",
    "key_decimal",
    "key_error",
    "key_int",
    "key_part",
    "key_range",
    "key_unset",
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
