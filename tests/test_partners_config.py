"""Partner configuration: validation and the JSON / YAML / environment loaders."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from dynagen.errors import InvalidValueError
from dynagen.runtime.accounts._partners import (
    Partner,
    load_partners,
    mask_account_ids,
    parse_partners,
    partners_from_env,
    partners_from_json,
    partners_from_yaml,
)

GOOD: dict[str, Any] = {
    "role_arn": "arn:aws:iam::111122223333:role/dynagen-reader",
    "external_id": "ext-acme-9f2c",
    "region": "eu-west-1",
}


def partner(**overrides: Any) -> Partner:
    return Partner(partner_id="acme", **{**GOOD, **overrides})


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::111122223333:role/r",
        "arn:aws:iam::111122223333:role/service-role/payments/Reader_v2+=,.@-",
        "arn:aws-cn:iam::111122223333:role/r",
        "arn:aws-us-gov:iam::111122223333:role/r",
        "arn:aws-iso-b:iam::111122223333:role/r",
    ],
)
def test_valid_role_arns(arn: str) -> None:
    assert partner(role_arn=arn).role_arn == arn


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::11112222333:role/r",  # 11 digits
        "arn:aws:iam::1111222233334:role/r",  # 13 digits
        "arn:aws:iam::111122223333:user/r",
        "arn:aws:sts::111122223333:role/r",
        "arn:aws:iam:eu-west-1:111122223333:role/r",
        "arn:aws:iam::111122223333:role/",
        "arn:aws:iam::111122223333:role/bad name",
        "arn:aws:iam::111122223333:role/" + "x" * 65,
        "arn:gcp:iam::111122223333:role/r",
        "111122223333",
        "",
    ],
)
def test_invalid_role_arns_name_partner_and_field(arn: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        partner(role_arn=arn)
    assert info.value.field == "partners[acme].role_arn"
    assert "111122223333" not in str(info.value), "account ids are masked in errors too"


@pytest.mark.parametrize("external_id", ["q", "has space", "Z" * 1225, "ünïcode-ext", ""])
def test_invalid_external_id_is_not_echoed(external_id: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        partner(external_id=external_id)
    assert info.value.field == "partners[acme].external_id"
    if len(external_id) > 1:
        assert external_id not in str(info.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("region", "europe"),
        ("region", "EU-WEST-1"),
        ("region", ""),
        ("session_duration", 899),
        ("session_duration", 43201),
        ("session_duration", True),
        ("session_duration", "3600"),
        ("session_duration", 3600.0),
        ("endpoint_url", "localhost:8000"),
        ("endpoint_url", "ftp://x"),
        ("endpoint_url", "http://"),
    ],
)
def test_invalid_fields(key: str, value: Any) -> None:
    with pytest.raises(InvalidValueError) as info:
        partner(**{key: value})
    assert info.value.field == f"partners[acme].{key}"


@pytest.mark.parametrize(
    "url",
    [
        "http://admin:hunter2@localhost:8000",
        "https://admin:hunter2@dynamodb.eu-west-1.amazonaws.com/",
        "http://hunter2@localhost:8000",
        "http://admin:p@ss:hunter2@localhost:8000",  # "@" inside the password: all of it is masked
        "http://admin:hunter2@local host:8000",  # not even a valid URL: still masked in the message
    ],
)
def test_userinfo_in_an_endpoint_url_is_refused_and_never_shown(url: str) -> None:
    """Issue 18, item 2: a password in a partner's endpoint URL was accepted and shown by its repr."""
    with pytest.raises(InvalidValueError) as info:
        partner(endpoint_url=url)
    assert info.value.field == "partners[acme].endpoint_url"
    assert "hunter2" not in str(info.value) and "p@ss" not in str(info.value)
    assert "****@" in str(info.value)
    document = json.dumps({"acme": {**GOOD, "endpoint_url": url}})
    with pytest.raises(InvalidValueError) as from_env:
        partners_from_env("P", {"P": document})
    assert "hunter2" not in str(from_env.value)


def test_the_resolvers_endpoint_urls_refuse_userinfo_too() -> None:
    from dynagen.runtime.accounts._resolver import PartnerResolver

    for option in ("endpoint_url", "sts_endpoint_url"):
        with pytest.raises(InvalidValueError, match=f"^{option}: must not carry a user name or password") as info:
            PartnerResolver(**{option: "https://user:hunter2@sts.eu-west-1.amazonaws.com"})
        assert "hunter2" not in str(info.value)
        with pytest.raises(InvalidValueError, match=f"^{option}: must be an http"):
            PartnerResolver(**{option: "ftp://sts.example.com"})


@pytest.mark.parametrize("pid", ["", "has space", "tab\t", "x" * 129, "new\nline"])
def test_invalid_partner_ids(pid: str) -> None:
    with pytest.raises(InvalidValueError, match="partner id"):
        Partner(partner_id=pid, **GOOD)


def test_partner_is_frozen_comparable_and_safe_to_print() -> None:
    p = partner(session_duration=900, endpoint_url="http://localhost:8000")
    assert p == partner(session_duration=900, endpoint_url="http://localhost:8000")
    assert p != partner(external_id="other-ext")
    assert p.account_id == "111122223333"
    assert p.duration == 900
    assert partner().duration == 3600
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.region = "us-east-1"  # type: ignore[misc]
    assert "ext-acme-9f2c" not in repr(p)
    assert "111122223333" not in repr(p)
    assert "arn:aws:iam::********3333:role/dynagen-reader" in repr(p)


def test_mask_account_ids() -> None:
    assert mask_account_ids("arn:aws:iam::123456789012:role/x") == "arn:aws:iam::********9012:role/x"
    assert (
        mask_account_ids(
            "a arn:aws-cn:sts::123456789012:assumed-role/r/s and arn:aws:dynamodb:eu-west-1:210987654321:table/t"
        )
        == "a arn:aws-cn:sts::********9012:assumed-role/r/s and arn:aws:dynamodb:eu-west-1:********4321:table/t"
    )
    assert mask_account_ids("order 123456789012") == "order 123456789012"


def test_json_mapping_and_list_shapes() -> None:
    as_map = partners_from_json(json.dumps({"acme": GOOD, "globex": {**GOOD, "session_duration": 1800}}))
    as_list = partners_from_json(
        json.dumps([{"id": "acme", **GOOD}, {"id": "globex", **GOOD, "session_duration": 1800}])
    )
    assert as_map == as_list
    assert [p.partner_id for p in as_map] == ["acme", "globex"]
    assert as_map[1].session_duration == 1800
    assert partners_from_json("{}") == [] == partners_from_json("[]")


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ('{"acme": {"role_arn": "x"', "partners", "invalid JSON"),
        ('{"acme": {"role_arn": "arn:aws:iam::111122223333:role/r"}}', "partners[acme].external_id", "is required"),
        ('{"acme": {"regoin": "eu-west-1"}}', "partners[acme]", "unknown key(s): regoin"),
        ('{"acme": 3}', "partners[acme]", "expected an object"),
        ('"acme"', "partners", "expected an object or a list"),
        ('[{"role_arn": "x"}]', "partners[0]", "'id'"),
        ('[{"id": 7}]', "partners[0]", "'id'"),
    ],
)
def test_json_errors(text: str, field: str, message: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        partners_from_json(text)
    assert info.value.field == field
    assert message in str(info.value)


def test_duplicates_are_errors_not_last_one_wins() -> None:
    good = json.dumps(GOOD)
    with pytest.raises(InvalidValueError, match="duplicate key") as info:
        partners_from_json(f'{{"acme": {good}, "acme": {good}}}')
    assert info.value.field == "partners[acme]"
    with pytest.raises(InvalidValueError, match="duplicate partner id"):
        parse_partners([{"id": "acme", **GOOD}, {"id": "acme", **GOOD}])
    with pytest.raises(InvalidValueError, match="duplicate key"):
        partners_from_yaml("acme:\n  region: eu-west-1\nacme:\n  region: eu-west-2\n")


def test_yaml() -> None:
    text = """
acme:
  role_arn: arn:aws:iam::111122223333:role/dynagen-reader
  external_id: ext-acme-9f2c
  region: eu-west-1
  session_duration: 1800
  endpoint_url: http://localhost:8000
"""
    [p] = partners_from_yaml(text)
    assert p == partner(session_duration=1800, endpoint_url="http://localhost:8000")
    with pytest.raises(InvalidValueError, match="invalid YAML"):
        partners_from_yaml("acme: [unclosed")
    with pytest.raises(InvalidValueError, match="unknown key"):
        partners_from_yaml("acme:\n  role: x\n")


def test_yaml_without_pyyaml_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(ImportError, match="PyYAML"):
        partners_from_yaml("acme: {}")
    assert partners_from_json(json.dumps({"acme": GOOD}))[0].partner_id == "acme"


def test_load_partners_from_files(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(json.dumps({"acme": GOOD}), encoding="utf-8")
    (tmp_path / "p.yml").write_text(
        "- id: acme\n" + "".join(f"  {k}: {v}\n" for k, v in GOOD.items()), encoding="utf-8"
    )
    assert load_partners(tmp_path / "p.json") == load_partners(str(tmp_path / "p.yml")) == [partner()]
    with pytest.raises(InvalidValueError, match=r"expected a \.json"):
        load_partners(tmp_path / "p.toml")
    with pytest.raises(InvalidValueError, match="cannot read"):
        load_partners(tmp_path / "missing.yaml")


def test_partners_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DYNAGEN_PARTNERS", raising=False)
    assert partners_from_env() == []
    monkeypatch.setenv("DYNAGEN_PARTNERS", json.dumps({"acme": GOOD}))
    assert partners_from_env() == [partner()]
    assert partners_from_env("OTHER", {"OTHER": "  "}) == []
    with pytest.raises(InvalidValueError, match=r"\$OTHER") as info:
        partners_from_env("OTHER", {"OTHER": '{"acme": {"region": "eu-west-1"}}'})
    assert info.value.field == "partners[acme].role_arn"
