"""Log hygiene for the multi-account resolver: no secret of a partner ever reaches a log line.

``PartnerLogFilter`` adds the current partner to log records and masks account ids, credential
values and every known secret (partners' external IDs, issued secret keys and session tokens)
wherever they appear, in free text and formatted tracebacks too; ``redact_secrets`` does the same to
one string. The resolver tells ``known_secrets`` what to mask as it learns it.
"""

from __future__ import annotations

import logging
import os
import re
import threading

from dynagen._typing import Any
from dynagen.runtime.accounts._partners import mask_account_ids
from dynagen.runtime.aws_lambda._context import current_partner
from dynagen.runtime.transport._urls import quote

__all__ = ["PartnerLogFilter", "install_partner_log_filter", "known_secrets", "redact_secrets"]

# Credential values shorter than this are not secrets worth a substring search (and would mangle
# ordinary words: the test suites' "testing" keys). Real secret keys have 40 characters, tokens hundreds.
_MIN_CREDENTIAL = 16
_MAX_ISSUED = 512  # about two per partner and refresh: hundreds of partner-hours
_MAX_SEEN = 128  # learned from log lines, kept apart: junk in a log line never evicts an issued secret


def _id_pattern(value: str) -> re.Pattern[str]:
    # Not inside a longer word: a short external id ("ab") must not eat every "ab" of a log line.
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])")


class _KnownSecrets:
    """Values replaced with ``****`` wherever they appear in a log line or traceback, in free text too.

    External IDs of every partner any resolver was given (and their percent-encoded form), and the
    secret keys and session tokens of credentials dynagen obtained (AssumeRole results, the
    environment's) or saw (values the field patterns below matched in earlier records). Reads take
    an immutable snapshot, so logging threads never wait for a resolver.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: dict[str, re.Pattern[str] | None] = {}  # compiled when first found in a text
        # Insertion-ordered: the oldest are dropped first.
        self._issued: dict[str, None] = {}
        self._seen: dict[str, None] = {}
        self._snapshot: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())

    def add_external_id(self, value: str) -> None:
        with self._lock:
            for form in {value, quote(value)}:  # quoted: as it travels in an STS request body
                if form and form not in self._ids:
                    self._ids[form] = None
            self._publish()

    def add_credentials(self, *values: str | None, seen: bool = False) -> None:
        """Remember secret keys / session tokens; ``seen``: found in a log line, not issued to dynagen."""
        fresh = [v for v in values if v and len(v) >= _MIN_CREDENTIAL and v not in self._issued and v not in self._seen]
        if not fresh:
            return
        store, limit = (self._seen, _MAX_SEEN) if seen else (self._issued, _MAX_ISSUED)
        with self._lock:
            for value in fresh:
                store[value] = None
            while len(store) > limit:
                del store[next(iter(store))]
            self._publish()

    def _publish(self) -> None:
        # Longest first: a value containing another is replaced whole.
        credentials = tuple(sorted({**self._issued, **self._seen}, key=len, reverse=True))
        self._snapshot = (credentials, tuple(sorted(self._ids, key=len, reverse=True)))

    def redact(self, text: str) -> str:
        credentials, ids = self._snapshot
        for value in credentials:
            if value in text:
                text = text.replace(value, "****")
        for value in ids:
            if value in text:
                text = self._pattern(value).sub("****", text)
        return text

    def _pattern(self, value: str) -> re.Pattern[str]:
        # Compiled on first need, not when the partner is added: a resolver's init stays cheap with
        # hundreds of partners (the cold start of every function that has them).
        pattern = self._ids.get(value)
        if pattern is None:
            pattern = _id_pattern(value)
            with self._lock:
                if value in self._ids:
                    self._ids[value] = pattern
        return pattern


known_secrets = _KnownSecrets()


def _learned(match: re.Match[str]) -> str:
    # A value a field pattern recognised as a secret is remembered, so it is masked later even where
    # nothing marks it (a bare token in an exception message, a traceback's repr of a dict).
    known_secrets.add_credentials(match.group(2), seen=True)
    return f"{match.group(1)}****{match.group(3)}"


_secret_fields: list[tuple[re.Pattern[str], Any]] = []


def _fields() -> list[tuple[re.Pattern[str], Any]]:
    """The field patterns, compiled on first use (~0.3 ms a partner function's cold start need not pay)."""
    if not _secret_fields:
        _secret_fields[:] = [
            # XML (STS responses as botocore logs them at DEBUG)
            (re.compile(r"(<(?:SecretAccessKey|SessionToken)>)([^<]*)(</)"), _learned),
            # dict reprs, JSON, headers and key=value pairs
            (
                re.compile(
                    r"""(?i)(\b(?:SecretAccessKey|SessionToken|SecurityToken|X-Amz-Security-Token|"""
                    r"""aws_secret_access_key|aws_session_token|secret_key|ExternalId)["']?\s*[:=]\s*b?["']?)"""
                    r"""([^"'\s,}&]+)()"""
                ),
                _learned,
            ),
            # Access key ids (long-term AKIA and temporary ASIA), e.g. in an Authorization header's Credential=
            (re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{12,124}\b"), r"\1****"),
        ]
    return _secret_fields


def redact_secrets(text: str) -> str:
    """Mask account ids in ARNs, access key ids, secret-key / session-token values and known secrets in ``text``.

    Known secrets: every partner's external ID and the secret keys and session tokens dynagen has
    obtained or seen, wherever they appear (free text included).
    """
    text = mask_account_ids(known_secrets.redact(text))
    for pattern, replacement in _fields():
        text = pattern.sub(replacement, text)
    return text


class PartnerLogFilter(logging.Filter):
    """Adds ``record.partner`` (the current partner, None for the base account) and redacts the message.

    The partner comes from the same context variable as ``LogContextFilter``'s, with the same
    meaning, so the two filters never disagree.

    Attach it to handlers (not loggers) so it also sees records propagated from botocore::

        handler.addFilter(PartnerLogFilter())
        logging.Formatter("%(levelname)s [%(partner)s] %(message)s")

    Besides the field patterns of ``redact_secrets`` it replaces known secrets wherever they appear,
    free text included: every configured partner's external ID (whichever resolver was given it),
    the secret keys and session tokens of the credentials AssumeRole issued to a resolver, the
    environment's (read when the filter is created), and those it has seen in earlier records. The
    message, the traceback it formats (``exc_text``, chained causes included) and ``stack_info`` are
    covered.
    """

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        known_secrets.add_credentials(os.environ.get("AWS_SECRET_ACCESS_KEY"), os.environ.get("AWS_SESSION_TOKEN"))

    def filter(self, record: logging.LogRecord) -> bool:
        record.partner = current_partner.get() or None
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed record: let logging report it as usual
        redacted = redact_secrets(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_secrets(record.stack_info)
        return True


def install_partner_log_filter(logger: logging.Logger | None = None) -> PartnerLogFilter:
    """Add one ``PartnerLogFilter`` to every handler of ``logger`` (the root logger by default)."""
    target = logger if logger is not None else logging.getLogger()
    log_filter = PartnerLogFilter()
    for handler in target.handlers:
        if not any(isinstance(f, PartnerLogFilter) for f in handler.filters):
            handler.addFilter(log_filter)
    return log_filter
