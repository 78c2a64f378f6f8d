"""The Lambda-side runtime: what generated modules and handlers import.

Import-light by design: this package imports only the standard library; botocore is imported when
the first client is created.
"""

from dynagen.runtime._deadline import DEFAULT_MARGIN, Deadline
from dynagen.runtime._transport import BotocoreTransport, Transport, as_transport

__all__ = ["DEFAULT_MARGIN", "BotocoreTransport", "Deadline", "Transport", "as_transport"]
