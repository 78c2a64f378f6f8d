"""How one request reaches DynamoDB: the transport interface, its bounds and its errors, two transports.

- ``_interface``: ``Transport``, the one narrow interface (operation name and wire request in,
  wire response out);
- ``_bounds``: what bounds one request: the deadline (``Deadline``, ``current_deadline``) and the
  largest response accepted;
- ``_errors``: which AWS error codes are throttling or transient, and service answers as dynagen errors;
- ``_botocore``: ``BotocoreTransport`` over a botocore/boto3 client (and its deadline-aware retry
  waits); ``_botocore_guard`` caps its response bodies;
- ``lean/``: ``LeanTransport``, signed HTTP/1.1 over the standard library (SigV4, retries, TLS, and
  STS for partners' credentials);
- ``_urls``: the strict URL splitter both use for endpoints.
"""
