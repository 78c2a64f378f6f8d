"""The lean transport: DynamoDB over signed HTTP/1.1 with the standard library only.

Importing this package never imports botocore; botocore is imported lazily, and only when no
credentials are passed and none are in the environment (to run its provider chain).

    from dynagen.runtime.transport.lean import LeanTransport
    transport = LeanTransport("eu-west-1")
    transport.call("GetItem", {"TableName": "t", "Key": {"PK": {"S": "a"}}})
"""

from dynagen.runtime.transport.lean._client import (
    DEFAULT_CALL_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_READ_TIMEOUT,
    LeanTransport,
    safe_to_resend,
)
from dynagen.runtime.transport.lean._credentials import Credentials
from dynagen.runtime.transport.lean._errors import map_dynamodb_error
from dynagen.runtime.transport.lean._retry import RetryPolicy, RetryQuota

__all__ = [
    "DEFAULT_CALL_TIMEOUT",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_READ_TIMEOUT",
    "Credentials",
    "LeanTransport",
    "RetryPolicy",
    "RetryQuota",
    "map_dynamodb_error",
    "safe_to_resend",
]
