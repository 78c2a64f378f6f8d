"""mypy --strict refuses a typed condition or update with a value of the wrong type, and accepts the right one.

Run in-process (``mypy.api``) on two small files written next to a copy of ``typed_models`` (the
module in the shape the generator emits, itself checked here): one with deliberate mistakes, each
marked ``# E: <error code>`` on its line, and its correct twin, which must pass.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from mypy import api

HERE = Path(__file__).parent

PRELUDE = """\
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from dynagen.runtime import Condition, Update
from typed_models import Address, CommentFields, Currency, Geo, LineItem, OrderFields, OrderStatus

F = OrderFields
"""

WRONG = (
    PRELUDE
    + """
conditions: list[Condition] = [
    F.order_id.eq(5),  # E: arg-type
    F.status.eq(Currency.USD),  # E: arg-type
    F.status.eq("shipped"),  # E: arg-type
    F.placed_at.gt("2024-05-01T00:00:00Z"),  # E: arg-type
    F.placed_at >= date(2024, 5, 1),  # E: operator
    F.quantity.begins_with("1"),  # E: attr-defined
    F.total.lt(1.5),  # E: arg-type
    F.customer_id.eq("00000000-0000-4000-8000-000000000001"),  # E: arg-type
    F.related.contains("11111111-1111-4111-8111-111111111111"),  # E: arg-type
    F.labels.contains(1),  # E: arg-type
    F.notes.eq("abc"),  # E: arg-type
    F.billing.city.eq(None),  # E: arg-type
    F.billing.geo.lat.gt(1.0),  # E: arg-type
    F.line_items[0].sku.eq(1),  # E: arg-type
    F.line_items["0"].sku.eq("a"),  # E: index
    F.tags[0].eq("a"),  # E: index
    F.addresses["home"].eq(Geo(lat=Decimal(1), lng=Decimal(2))),  # E: arg-type
    F.settings["theme"].eq("dark"),  # E: index
    F.settings.gt(1),  # E: attr-defined
    F.gift.lt(True),  # E: attr-defined
    F.note.attribute_type("STRING"),  # E: arg-type
    F.line_items[0].size,  # E: list-item
    CommentFields.replies[0].replies[1].text.eq(1),  # E: arg-type
]
update = Update.of(
    F.version.add("1"),  # E: arg-type
    F.labels.add("red"),  # E: arg-type
    F.counts.delete({"1"}),  # E: arg-type
    F.notes.append("third"),  # E: arg-type
    F.line_items.append([Address(line1="l", city="c")]),  # E: list-item
    F.placed_at.set(date(2024, 5, 1)),  # E: arg-type
    F.status.remove("x"),  # E: call-arg
)
"""
)

RIGHT = (
    PRELUDE
    + """
conditions: list[Condition] = [
    F.order_id.eq("o-1"),
    F.status.eq(OrderStatus.SHIPPED),
    F.status.is_in([OrderStatus.PENDING, OrderStatus.CANCELLED]),
    F.placed_at.gt(datetime(2024, 5, 1, tzinfo=UTC)),
    F.placed_at >= datetime(2024, 5, 1, tzinfo=UTC),
    F.placed_on.begins_with("2024-05"),
    F.quantity.ge(2),
    F.total.lt(Decimal("1.5")),
    F.weight.between(1, 2.5),
    F.customer_id.eq(UUID("00000000-0000-4000-8000-000000000001")),
    F.related.contains(UUID("11111111-1111-4111-8111-111111111111")),
    F.labels.contains("red"),
    F.notes.eq(["a", "b"]),
    F.billing.city.not_exists(),
    F.billing.geo.lat.gt(Decimal(1)),
    F.line_items[0].sku.eq("a"),
    F.tags["env"].eq("prod"),
    F.addresses["home"].eq(Address(line1="l", city="c")),
    F.settings.eq({"theme": "dark"}),
    F.settings.contains_text('"beta":true'),
    F.gift.eq(True),
    F.note.attribute_type("S"),
    F.line_items[0].size_.eq("XL"),
    F.line_items.size() > 2,
    F.extra["k"][0].eq(1),
    (F.quantity < 3) & ~F.gift.eq(True) | F.note.exists(),
    CommentFields.replies[0].replies[1].text.eq("deep"),
]
update = Update.of(
    F.version.add(1),
    F.labels.add({"red"}),
    F.counts.delete({1}),
    F.notes.append(["third"]),
    F.line_items.append([LineItem(sku="s", quantity=1, unit_price=Decimal(2))]),
    F.placed_on.set(date(2024, 5, 1)),
    F.status.remove(),
    F.tags["env"].set("prod"),
    F.line_items[0].quantity.add(1),
)
"""
)


def _mypy(tmp_path: Path) -> dict[str, list[tuple[int, str]]]:
    """Errors per file: (line, error code)."""
    shutil.copy(HERE / "typed_models.py", tmp_path / "typed_models.py")
    (tmp_path / "wrong.py").write_text(WRONG)
    (tmp_path / "right.py").write_text(RIGHT)
    files = [str(tmp_path / name) for name in ("typed_models.py", "wrong.py", "right.py")]
    stdout, stderr, _ = api.run(
        ["--strict", "--python-version", "3.11", "--cache-dir", str(tmp_path / ".mypy_cache"), "--no-error-summary", *files]
    )
    assert not stderr, stderr
    errors: dict[str, list[tuple[int, str]]] = {}
    for line in stdout.splitlines():
        match = re.match(r"(.+?):(\d+): error: .*\[([a-z-]+)\]$", line)
        assert match or ": note:" in line, line
        if match:
            errors.setdefault(Path(match.group(1)).name, []).append((int(match.group(2)), match.group(3)))
    return errors


def test_mypy_refuses_wrong_values_and_accepts_their_twins(tmp_path: Path) -> None:
    errors = _mypy(tmp_path)
    expected = [
        (number, code)
        for number, line in enumerate(WRONG.splitlines(), start=1)
        for code in re.findall(r"# E: ([a-z-]+)$", line)
    ]
    assert len(expected) == 30
    assert sorted(set(errors.get("wrong.py", []))) == expected
    assert errors.get("right.py", []) == []
    assert errors.get("typed_models.py", []) == []
