"""An instant STS for the cold-start benchmark: every request gets the same canned AssumeRole answer.

The DynamoDB stub's machinery (raw sockets, keep-alive, prebuilt responses) with one XML answer
instead of JSON per operation. Nothing is checked: what is measured is the client.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks._stub import InstantStub


def assume_role_answer(expiration: datetime) -> bytes:
    """A whole HTTP response carrying a successful AssumeRole answer, as STS writes it."""
    body = f"""<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>AROABENCHBENCHBENCH:dynagen-p-0001</AssumedRoleId>
      <Arn>arn:aws:sts::111122223333:assumed-role/payments/dynagen-p-0001</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIABENCHBENCHBENCH1</AccessKeyId>
      <SecretAccessKey>bench/partner/secret/key/0123456789abcdef</SecretAccessKey>
      <SessionToken>{"IQoJb3JpZ2luX2VjEBench" * 40}</SessionToken>
      <Expiration>{expiration.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>bench-request</RequestId></ResponseMetadata>
</AssumeRoleResponse>
""".encode()
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {len(body)}\r\n"
        "x-amzn-RequestId: bench-request\r\n\r\n"
    ).encode()
    return head + body


class InstantSTS(InstantStub):
    """Answers every request with an AssumeRole success (credentials valid for 12 hours)."""

    def __init__(self, *, tls: tuple[Path, Path] | None = None) -> None:
        super().__init__({}, tls=tls)
        # Requests carry no X-Amz-Target: every one gets the default answer.
        self._default = assume_role_answer(datetime.now(UTC) + timedelta(hours=12))
