"""What running inside AWS Lambda asks of the runtime.

- ``_environment``: where we run (Lambda or not) and how clients are tuned for it (pool size by
  memory, timeouts, retries, region, X-Ray trace header);
- ``_clients``: the process-wide cache of clients and transports that warm invocations reuse, and
  ``warm_up``;
- ``_observe``: log context and optional CloudWatch metrics (EMF) per request;
- ``_context``: the context variables they share (the current partner).
"""
