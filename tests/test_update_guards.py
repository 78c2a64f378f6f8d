"""Updates that would store what the model cannot read back are refused before any request.

Found by a new user's trial: ``update_by_key(F.label.remove(), ...)`` on a required field ran, bumped
the version and left an item every later ``get`` failed to read (inside a transaction, silently);
a DMS ``NULL`` attribute took ``F.marker.set("hello")``; an untyped DMS list took a ``str`` (stored
as S) and an untyped map took ``{1: ...}`` (stored under the key "1").
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID

import pytest
from test_repository_support import NoRequests, import_generated, make_table, transport_fixture, unique

from dynagen.compiler import compile_schemas, write_output
from dynagen.errors import InvalidValueError
from dynagen.runtime.transport._interface import Transport
from generated_example import payments as pay
from generated_example.payments import Payment, PaymentFields, PaymentRepository

__all__ = ["transport_fixture"]

F = PaymentFields
SEEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def a_payment(partner: str) -> Payment:
    return Payment(
        partner_id=partner, payment_id="pay-1", customer_id=UUID(int=1), amount=Decimal("10"),
        currency=pay.Currency.EUR, created_on=date(2024, 5, 1), risk_score=0.5,
        line_items=[pay.LineItem(sku="s", description="d", quantity=1, unit_price=Decimal("1"))],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("remove", "path"),
    [
        (lambda: F.amount.remove(), "amount"),
        (lambda: F.currency.remove(), "currency"),
        (lambda: F.line_items[0].sku.remove(), "lineItems[0].sku"),  # required inside the record
    ],
)
def test_removing_a_required_field_is_refused_when_the_action_is_made(remove: Any, path: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        remove()
    assert caught.value.field == path and "is required" in str(caught.value)


def test_what_reads_back_may_still_be_removed() -> None:
    for action in (F.risk_score.remove(), F.metadata.remove(), F.labels.remove(), F.line_items[0].remove()):
        assert action.clause == "REMOVE"


def test_the_untyped_update_refuses_to_remove_a_required_field() -> None:
    repo = PaymentRepository(NoRequests(), table_name="payments")
    stored = dataclasses.replace(a_payment("p"), version=1)
    with pytest.raises(InvalidValueError) as caught:
        repo.update(stored, [], remove=["amount"])
    assert caught.value.field == "amount"


@pytest.mark.ddb
def test_a_refused_removal_leaves_the_item_readable(transport: Transport, ddb_client: Any) -> None:
    repo = PaymentRepository(transport, table_name=make_table(ddb_client, pay.TABLES["payments"], "guards"))
    partner = unique("p-")
    created = repo.create(a_payment(partner))
    with pytest.raises(InvalidValueError):
        repo.update_by_key(F.amount.remove(), partner_id=partner, payment_id="pay-1")
    assert repo.get(partner_id=partner, payment_id="pay-1") == created
    updated = repo.update_by_key(F.risk_score.remove(), partner_id=partner, payment_id="pay-1")
    assert updated.risk_score is None and repo.get(partner_id=partner, payment_id="pay-1") == updated


DMS = """\
dms_version: "0.1"
models:
  - name: "Reading"
    table: { name: "readings_guards" }
    naming: { convention: "camelCase" }
    keys:
      partition: { attribute: "sensorId", type: "S" }
    attributes:
      - { attribute: "sensorId", type: "S", required: true, roles: ["pk"] }
      - { attribute: "label", type: "S", required: true }
      - { attribute: "marker", type: "NULL", required: true }
      - { attribute: "samples", type: "L", optional: true }
      - { attribute: "extra", type: "M", optional: true }
      - { attribute: "seenAt", type: "N", format: "unix_seconds", required: true, omit_empty: true }
"""


@pytest.fixture(scope="module")
def dms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    folder = tmp_path_factory.mktemp("guards")
    (folder / "readings.yml").write_text(DMS, encoding="utf-8")
    write_output(compile_schemas([folder / "readings.yml"], root=folder), folder / "out")
    try:
        yield import_generated(Path(folder / "out" / "readings.py"), "guards_readings")
    finally:
        sys.modules.pop("guards_readings", None)


def test_a_dms_null_attribute_takes_only_none(dms: ModuleType) -> None:
    fields = dms.ReadingFields
    assert fields.marker.set(None).value == {"NULL": True}
    with pytest.raises(InvalidValueError) as caught:
        fields.marker.set("hello")
    assert caught.value.field == "marker" and "holds only None" in str(caught.value)
    with pytest.raises(InvalidValueError):
        fields.label.remove()


def test_untyped_dms_lists_and_maps_refuse_other_containers_and_keys(dms: ModuleType) -> None:
    for value, field in (("abc", "samples"), ({"a": 1}, "samples")):
        with pytest.raises(InvalidValueError) as caught:
            dms.Reading(sensor_id="s", label="l", marker=None, seen_at=SEEN, samples=value).to_item()
        assert caught.value.field == field
    with pytest.raises(InvalidValueError) as caught:
        dms.Reading(sensor_id="s", label="l", marker=None, seen_at=SEEN, extra=["x"]).to_item()
    assert caught.value.field == "extra"
    with pytest.raises(InvalidValueError) as caught:
        dms.Reading(sensor_id="s", label="l", marker=None, seen_at=SEEN, extra={"a": {1: "one"}}).to_item()
    assert "map keys must be strings" in str(caught.value)
    ok = dms.Reading(sensor_id="s", label="l", marker=None, seen_at=SEEN, samples=[1, "two", None], extra={"a": [True]})
    assert dms.Reading.from_item(ok.to_item()) == ok


def test_a_required_omit_empty_epoch_left_out_at_zero_reads_back(dms: ModuleType) -> None:
    """epoch 0 is empty under omit_empty, so it is left out; reading the item failed ("no 'seenAt'")."""
    early = dms.Reading(sensor_id="s", label="l", marker=None, seen_at=datetime(1970, 1, 1, 0, 0, 0, 500, tzinfo=UTC))
    item = early.to_item()
    assert "seenAt" not in item
    assert dms.Reading.from_item(item).seen_at == datetime(1970, 1, 1, tzinfo=UTC)  # whole seconds, as stored


def test_json_object_keys_must_be_strings() -> None:
    """{1: "a"} was written as {"1": "a"} and read back unequal (mixed keys failed with a TypeError)."""
    partner = pay.Partner(partner_id="p", name="n", fee_rate=Decimal("0.01"), settings={"a": [{"b": {2: "x"}}]})
    with pytest.raises(InvalidValueError) as caught:
        partner.to_item()
    assert caught.value.field == "settings" and "keys must be strings, got int 2" in str(caught.value)
    with pytest.raises(InvalidValueError):
        pay.PartnerFields.settings.set({1: "a", "b": 2})
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    with pytest.raises(InvalidValueError, match="Circular"):
        pay.Partner(partner_id="p", name="n", fee_rate=Decimal("0.01"), settings=cyclic).to_item()
    fine = pay.Partner(partner_id="p", name="n", fee_rate=Decimal("0.01"), settings={"a": [1, {"b": Decimal("1.5")}]})
    assert pay.Partner.from_item(fine.to_item()).settings == {"a": [1, {"b": 1.5}]}
