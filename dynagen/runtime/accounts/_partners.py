"""Partner configuration for the multi-account resolver: the ``Partner`` record and its loaders.

A partner keeps its data in its own AWS account; dynagen reaches it by assuming a role there with
an external ID. Partners come from code, from a JSON or YAML document (a string or a file), or from
an environment variable holding JSON (``DYNAGEN_PARTNERS`` by default). Every problem is an
``InvalidValueError`` whose ``field`` names the partner and the key, e.g. ``partners[acme].role_arn``.

Two document shapes are accepted, with the same keys per partner::

    {"acme": {"role_arn": "...", "external_id": "...", "region": "eu-west-1"}}
    [{"id": "acme", "role_arn": "...", "external_id": "...", "region": "eu-west-1"}]

Optional keys: ``session_duration`` (seconds, 900-43200) and ``endpoint_url`` (DynamoDB endpoint,
without a user name or password).
An unknown key or a duplicate partner id is an error: a typo must never pass silently.

Standard library only; PyYAML is imported only when a YAML document is read.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from dynagen._typing import Any
from dynagen.errors import InvalidValueError
from dynagen.runtime.transport._urls import split_url

__all__ = [
    "DEFAULT_PARTNERS_ENV",
    "Partner",
    "check_endpoint_url",
    "load_partners",
    "mask_account_ids",
    "parse_partners",
    "partners_from_env",
    "partners_from_json",
    "partners_from_yaml",
]

DEFAULT_PARTNERS_ENV = "DYNAGEN_PARTNERS"

# arn:<partition>:iam::<account>:role/<optional path/><name>. IAM role names are 1-64 of
# [\w+=,.@-]; a path is "/" or "/segments/" of printable ASCII (the leading "/" is implied).
_ROLE_ARN = re.compile(
    r"arn:(?P<partition>aws(?:-[a-z]+)*):iam::(?P<account>\d{12}):role/"
    r"(?P<path>(?:[\x21-\x7e]+/)?)(?P<name>[A-Za-z0-9_+=,.@-]{1,64})"
)
# STS: ExternalId is 2-1224 characters of [\w+=,.@:/-].
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9_+=,.@:/-]{2,1224}")
# us-east-1, eu-central-2, us-gov-west-1, cn-north-1, us-isob-east-1, ...
_REGION = re.compile(r"[a-z]{2}(?:-[a-z0-9]+)+-\d{1,2}")
# Partner ids show up in logs, metrics and session names: no whitespace or control characters.
_PARTNER_ID = re.compile(r"[^\s\x00-\x1f\x7f]{1,128}")
_MIN_DURATION, _MAX_DURATION = 900, 43200
_KEYS = frozenset({"role_arn", "external_id", "region", "session_duration", "endpoint_url"})

# Any ARN's account field (iam, sts, dynamodb, ...): keep the last four digits.
_ARN_ACCOUNT = re.compile(r"(arn:[A-Za-z0-9-]+:[A-Za-z0-9-]*:[A-Za-z0-9-]*:)(\d{8})(\d{4})(?=[:/])")


_LONG_DIGITS = re.compile(r"\d{9,}")


def _mask_digits(match: re.Match[str]) -> str:
    digits = match.group()
    return "*" * (len(digits) - 4) + digits[-4:]


# scheme://<userinfo>@host: everything up to the authority's last "@" (a password may hold one).
_USERINFO = re.compile(r"(?<=://)[^/?#]*@")


def check_endpoint_url(field: str, url: Any) -> None:
    """An endpoint URL (None allowed) must be ``http(s)://host[:port]...`` without userinfo.

    ``InvalidValueError`` naming ``field`` otherwise. A user name or password in an endpoint URL is
    refused, not used: AWS endpoints take none, and a URL is shown in reprs, logs and errors. The
    message never shows the userinfo part.
    """
    if url is None:
        return
    try:
        parts = split_url(url) if isinstance(url, str) else None
    except ValueError:
        parts = None
    shown = _USERINFO.sub("****@", url) if isinstance(url, str) else url
    if parts is None or parts.scheme not in ("http", "https") or not parts.host:
        raise InvalidValueError(field, f"must be an http(s) URL, got {shown!r}")
    if parts.userinfo is not None:
        raise InvalidValueError(field, f"must not carry a user name or password, got {shown!r}")


def mask_account_ids(text: str) -> str:
    """``arn:aws:iam::123456789012:role/x`` -> ``arn:aws:iam::********9012:role/x`` (every ARN in ``text``)."""
    return _ARN_ACCOUNT.sub(lambda m: f"{m.group(1)}********{m.group(3)}", text)


@dataclass(frozen=True, repr=False)
class Partner:
    """One partner account: which role to assume there, with which external ID, in which region.

    ``partner_id`` is the key callers use (``resolver.client("acme")``); it must not be empty (the
    empty partner is the base account). ``session_duration`` is the AssumeRole ``DurationSeconds``
    (None: STS's default of one hour); ``endpoint_url`` overrides the DynamoDB endpoint.
    """

    partner_id: str
    role_arn: str
    external_id: str
    region: str
    session_duration: int | None = None
    endpoint_url: str | None = None

    def __post_init__(self) -> None:
        pid = self.partner_id
        if not isinstance(pid, str) or not _PARTNER_ID.fullmatch(pid):
            raise InvalidValueError(
                "partners[].id",
                f"partner id must be 1-128 characters without whitespace, got {pid!r}",
            )

        def bad(key: str, message: str) -> InvalidValueError:
            return InvalidValueError(f"partners[{pid}].{key}", message)

        if not isinstance(self.role_arn, str) or not _ROLE_ARN.fullmatch(self.role_arn):
            # Echo the bad value for debugging, but with any account-id-like digit run masked.
            shown = _LONG_DIGITS.sub(_mask_digits, self.role_arn) if isinstance(self.role_arn, str) else self.role_arn
            raise bad("role_arn", f"expected arn:<partition>:iam::<12 digits>:role/<path/name>, got {shown!r}")
        # The external ID is a shared secret of sorts: never echo it back.
        if not isinstance(self.external_id, str) or not _EXTERNAL_ID.fullmatch(self.external_id):
            raise bad("external_id", "must be 2-1224 characters of letters, digits and _+=,.@:/-")
        if not isinstance(self.region, str) or not _REGION.fullmatch(self.region):
            raise bad("region", f"not an AWS region name: {self.region!r}")
        duration = self.session_duration
        if duration is not None and (
            isinstance(duration, bool)
            or not isinstance(duration, int)
            or not _MIN_DURATION <= duration <= _MAX_DURATION
        ):
            raise bad(
                "session_duration", f"must be an integer from {_MIN_DURATION} to {_MAX_DURATION}, got {duration!r}"
            )
        check_endpoint_url(f"partners[{pid}].endpoint_url", self.endpoint_url)

    @property
    def account_id(self) -> str:
        """The partner's 12-digit AWS account id (from the role ARN)."""
        match = _ROLE_ARN.fullmatch(self.role_arn)
        assert match is not None  # validated in __post_init__
        return match.group("account")

    @property
    def duration(self) -> int:
        """How long assumed credentials last, in seconds (STS's default when not set)."""
        return self.session_duration if self.session_duration is not None else 3600

    def __repr__(self) -> str:
        # No external ID, and the account id masked: reprs end up in logs and tracebacks.
        return (
            f"Partner(partner_id={self.partner_id!r}, role_arn={mask_account_ids(self.role_arn)!r}, "
            f"region={self.region!r}, session_duration={self.session_duration!r}, endpoint_url={self.endpoint_url!r})"
        )

    @classmethod
    def from_mapping(cls, partner_id: str, data: Mapping[str, Any]) -> Partner:
        """Build one partner from a decoded document entry (keys as in the module docstring)."""
        if not isinstance(data, Mapping):
            raise InvalidValueError(f"partners[{partner_id}]", f"expected an object, got {type(data).__name__}")
        unknown = sorted(str(k) for k in data if k not in _KEYS)
        if unknown:
            raise InvalidValueError(f"partners[{partner_id}]", f"unknown key(s): {', '.join(unknown)}")
        for key in ("role_arn", "external_id", "region"):
            if key not in data:
                raise InvalidValueError(f"partners[{partner_id}].{key}", "is required")
        return cls(
            partner_id=partner_id,
            role_arn=data["role_arn"],
            external_id=data["external_id"],
            region=data["region"],
            session_duration=data.get("session_duration"),
            endpoint_url=data.get("endpoint_url"),
        )


def parse_partners(data: Any) -> list[Partner]:
    """Partners from a decoded document: a mapping of id to fields, or a list of objects with ``id``."""
    partners: list[Partner] = []
    if isinstance(data, Mapping):
        for pid, fields in data.items():
            if not isinstance(pid, str):
                raise InvalidValueError("partners", f"partner ids must be strings, got {pid!r}")
            partners.append(Partner.from_mapping(pid, fields))
    elif isinstance(data, list):
        seen: set[str] = set()
        for index, entry in enumerate(data):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
                raise InvalidValueError(f"partners[{index}]", "expected an object with a string 'id'")
            fields = {k: v for k, v in entry.items() if k != "id"}
            pid = entry["id"]
            if pid in seen:
                raise InvalidValueError(f"partners[{pid}]", "duplicate partner id")
            seen.add(pid)
            partners.append(Partner.from_mapping(pid, fields))
    else:
        raise InvalidValueError("partners", f"expected an object or a list, got {type(data).__name__}")
    return partners


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InvalidValueError(f"partners[{key}]", "duplicate key")
        result[key] = value
    return result


def partners_from_json(text: str) -> list[Partner]:
    """Partners from a JSON document (duplicate keys are an error, not "last one wins")."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise InvalidValueError("partners", f"invalid JSON: {exc}") from None
    return parse_partners(data)


def partners_from_yaml(text: str) -> list[Partner]:
    """Partners from a YAML document. Needs PyYAML, which the runtime itself does not require."""
    try:
        import yaml
    except ImportError as exc:
        raise ImportError(
            "reading YAML partner configuration needs PyYAML (pip install PyYAML); JSON works without it"
        ) from exc

    class _StrictLoader(yaml.SafeLoader):
        """SafeLoader that rejects duplicate mapping keys instead of keeping the last one."""

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        keys: set[Any] = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node)
            if key in keys:
                raise InvalidValueError(f"partners[{key}]", f"duplicate key (line {key_node.start_mark.line + 1})")
            keys.add(key)
        return loader.construct_mapping(node)

    _StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        raise InvalidValueError("partners", f"invalid YAML: {exc}") from None
    return parse_partners(data)


def load_partners(path: str | os.PathLike[str]) -> list[Partner]:
    """Partners from a ``.json``, ``.yaml`` or ``.yml`` file."""
    file = os.fspath(path)  # os.path, not pathlib: pathlib imports urllib.parse (cold start)
    suffix = os.path.splitext(file)[1].lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise InvalidValueError("partners", f"{file}: expected a .json, .yaml or .yml file")
    try:
        with open(file, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise InvalidValueError("partners", f"cannot read {file}: {exc.strerror or exc}") from None
    return partners_from_json(text) if suffix == ".json" else partners_from_yaml(text)


def partners_from_env(name: str = DEFAULT_PARTNERS_ENV, environ: Mapping[str, str] | None = None) -> list[Partner]:
    """Partners from an environment variable holding JSON; no partners when it is unset or blank."""
    value = (os.environ if environ is None else environ).get(name, "")
    if not value.strip():
        return []
    try:
        return partners_from_json(value)
    except InvalidValueError as exc:
        raise InvalidValueError(exc.field, f"{exc.reason} (from ${name})") from None
