"""Rules across the models of one table: keys that sort and never collide, entities, usable indexes.

Run after every model's keys are resolved (``_check``). Each rule is what single-table design gets
wrong silently at run time, turned into a compile error (or, for a query that merely reads other
models' items, a warning):

- a numeric part of a sort-key template needs a fixed width (``{line_no:06}``), else ``10`` sorts
  before ``9``;
- a typed key part must not be able to hold the literal that follows it (``{created_on}-{id}``
  could not be split back);
- string and enum key parts may not hold the table's separators for that key (``separators``);
  enum values are checked here, string values at run time;
- no two models on a table can produce one primary key (checked on the key languages);
- entity values are unique per table;
- an access pattern's index projects what its results need.
"""

from __future__ import annotations

from collections.abc import Callable

from dynagen.compiler._ir import AccessPattern, EnumDef, KeyAttr, Loc, Model, Placeholder, Table
from dynagen.compiler._keyspace import fixed_alphabet, language, overlap, separators

__all__ = ["KeyRules", "check_table", "key_rules", "sort_attributes"]

Report = Callable[[Loc, str], None]


def sort_attributes(table: Table) -> set[str]:
    """The key attributes items are ordered by: the table's sort key and every index's."""
    return {a for a in (table.sort_key, *(i.sort_key for i in table.indexes)) if a}


class KeyRules:
    """Per field of a table's models, the characters its key text may not hold (string and enum parts)."""

    def __init__(self, forbidden: dict[str, dict[str, frozenset[str]]]) -> None:
        self.forbidden = forbidden  # model name -> field name -> characters

    def of(self, model: Model) -> dict[str, frozenset[str]]:
        return self.forbidden.get(model.name, {})


def key_rules(models: list[Model]) -> KeyRules:
    """The separator characters each string or enum key part of these models (one table's) may not hold."""
    by_attribute: dict[str, frozenset[str]] = {}
    forbidden: dict[str, dict[str, frozenset[str]]] = {}
    for model in models:
        for key in model.keys:
            if key.type != "S" or len(key.template) < 2:
                continue
            seps = by_attribute.get(key.attribute)
            if seps is None:
                seps = by_attribute[key.attribute] = separators(models, key.attribute)
            for name in key.fields:
                f = model.field(name)
                if f is not None and f.type.kind in ("string", "enum") and seps:
                    mine = forbidden.setdefault(model.name, {})
                    mine[name] = mine.get(name, frozenset()) | seps
    # One field name, one rule on the table: partner_id may not hold '#' in any model's keys if it may
    # not in one (a Partner whose id no Payment could carry would be a trap).
    by_name: dict[str, frozenset[str]] = {}
    for fields in forbidden.values():
        for name, chars in fields.items():
            by_name[name] = by_name.get(name, frozenset()) | chars
    for model in models:
        for key in model.keys:
            if key.type != "S" or len(key.template) < 2:
                continue
            for name in key.fields:
                f = model.field(name)
                if f is not None and f.type.kind in ("string", "enum") and name in by_name:
                    forbidden.setdefault(model.name, {})[name] = by_name[name]
    return KeyRules(forbidden)


def check_table(table: Table, models: list[Model], enums: dict[str, EnumDef], error: Report, warn: Report) -> None:
    """Every rule above for the models bound to ``table`` (already checked one by one)."""
    rules = key_rules(models)
    values = {name: [v for _, v in e.values] for name, e in enums.items()}
    sorts = sort_attributes(table)
    for model in models:
        for key in model.keys:
            _check_template(model, key, key.attribute in sorts, rules.of(model), values, error)
    _check_entities(table, models, error)
    _check_collisions(table, models, rules, values, error)
    for model in models:
        for pattern in model.access_patterns:
            _check_pattern(table, model, pattern, models, rules, values, error, warn)


def _check_template(
    model: Model, key: KeyAttr, is_sort: bool, forbidden: dict[str, frozenset[str]], values: dict[str, list[str]],
    error: Report,
) -> None:
    at = key.loc if key.loc.line else model.loc
    parts = key.template
    for i, part in enumerate(parts):
        if not isinstance(part, Placeholder):
            continue
        f = model.field(part.field)
        if f is None:
            continue
        kind = f.type.kind
        after = parts[i + 1] if i + 1 < len(parts) else ""
        following = after if isinstance(after, str) else ""
        if part.width and kind not in ("int", "decimal"):
            error(at, f"{model.name}: key {key.attribute}: {{{part.field}:{part.spec}}} gives a width to a {kind} "
                      "field; widths are for int and decimal parts")  # fmt: skip
            continue
        if part.width and kind == "int" and part.scale:
            error(at, f"{model.name}: key {key.attribute}: {{{part.field}:{part.spec}}} has decimal places, but "
                      f"{part.field} is an int; write {{{part.field}:0{part.width}}}")  # fmt: skip
            continue
        if part.width and part.width - (1 if part.scale else 0) > 38:
            error(at, f"{model.name}: key {key.attribute}: {{{part.field}:{part.spec}}} is wider than DynamoDB's 38 "
                      "digits")  # fmt: skip
            continue
        if is_sort and key.type == "S" and kind in ("int", "decimal") and not part.width:
            example = f"{{{part.field}:010.2f}}" if kind == "decimal" else f"{{{part.field}:06}}"
            error(at, f"{model.name}: sort key {key.attribute} holds {{{part.field}}} ({kind}) as text, where 10 "
                      f"sorts before 9; give it a fixed width, e.g. {example} (zero-padded; negative values are "
                      "refused)")  # fmt: skip
        alphabet = fixed_alphabet(f, part, fixed_datetimes=True)
        if alphabet is not None and following and following[0] in alphabet:
            error(at, f"{model.name}: key {key.attribute}: {{{part.field}}} ({kind}) can hold {following[0]!r}, the "
                      "start of the text after it, so a stored key could not be split back into its fields; use "
                      "another separator, such as '#'")  # fmt: skip
        if kind == "enum":
            bad = forbidden.get(part.field, frozenset())
            for value in values.get(f.type.ref or "", []):
                clash = sorted(set(value) & bad)
                if clash:
                    error(at, f"{model.name}: key {key.attribute}: value {value!r} of {f.type.ref} holds "
                              f"{clash[0]!r}, a separator of {key.attribute} on this table; key parts cannot hold "
                              "their separators")  # fmt: skip


def _check_entities(table: Table, models: list[Model], error: Report) -> None:
    if not table.entity_attribute:
        return
    seen: dict[str, Model] = {}
    for model in models:
        if model.entity is None:
            continue
        first = seen.setdefault(model.entity, model)
        if first is not model:
            error(model.loc, f"{model.name}: entity {model.entity!r} is already {first.name}'s on table {table.id!r}; "
                             "each model on a table needs its own entity value")  # fmt: skip


def _check_collisions(table: Table, models: list[Model], rules: KeyRules, values: dict[str, list[str]],
                      error: Report) -> None:  # fmt: skip
    """No two models on the table can write one primary key (the later put would replace the other's item)."""
    for i, a in enumerate(models):
        for b in models[i + 1 :]:
            witness = []
            for attribute in (table.partition_key, table.sort_key):
                if attribute is None:
                    continue
                ka, kb = a.key(attribute), b.key(attribute)
                if ka is None or kb is None:
                    break
                found = overlap(language(ka, a, rules.of(a), values), language(kb, b, rules.of(b), values))
                if found is None:
                    break
                witness.append(f"{attribute} {found!r}")
            else:
                if witness:
                    error(b.loc, f"{b.name} and {a.name} can write the same primary key ({', '.join(witness)}), so one "
                                 "would replace the other's item; start their key templates with different literals "
                                 f"(e.g. '{b.name.upper()}#' and '{a.name.upper()}#') or add one that tells them "
                                 "apart")  # fmt: skip


def _models_in(index_keys: tuple[str, str | None], models: list[Model]) -> list[Model]:
    """The models whose items appear in an index: those that write its key attributes."""
    pk, sk = index_keys
    return [m for m in models if m.key(pk) is not None and (sk is None or m.key(sk) is not None)]


def _check_pattern(
    table: Table, model: Model, p: AccessPattern, models: list[Model], rules: KeyRules, values: dict[str, list[str]],
    error: Report, warn: Report,
) -> None:
    index = table.index(p.index) if p.index else None
    keys = (index.partition_key, index.sort_key) if index else (table.partition_key, table.sort_key)
    where = f"{model.name}.{p.name}"
    if index is None and p.returns == "items":
        error(p.loc, f"{where}: 'returns: items' reads an index's items in full; a table query already returns them")
    residents = _models_in(keys, models)
    shared = len(residents) > 1
    if index is not None and index.projection != "ALL":
        projected = set(index.include) | {table.partition_key, keys[0]} | {a for a in (table.sort_key, keys[1]) if a}
        missing = sorted({f.attribute for f in model.fields} - projected)
        if p.returns == "model" and missing:
            kind = "KEYS_ONLY" if index.projection == "KEYS_ONLY" else "INCLUDE"
            error(p.loc, f"{where}: index {index.name} ({kind}) does not project {', '.join(missing[:4])}"
                         f"{' and more' if len(missing) > 4 else ''} of {model.name}, so its items cannot be read as "
                         f"{model.name}; add 'returns: keys' (the primary key fields of each item, typed), 'returns: "
                         "items' (the full items, read with BatchGetItem after the query), or project every attribute "
                         "of the model")  # fmt: skip
        if shared and table.entity_attribute and table.entity_attribute not in projected:
            others = ", ".join(m.name for m in residents if m is not model)
            error(p.loc, f"{where}: index {index.name} also holds {others} items and does not project the entity "
                         f"attribute {table.entity_attribute!r}, so {model.name} items cannot be told apart; add "
                         f"{table.entity_attribute!r} to its projection (an INCLUDE list)")  # fmt: skip
    # Which other models' items this query reads (and filters out with the entity attribute).
    if not shared:
        return
    pk_key, sk_key = model.key(keys[0]), model.key(keys[1])
    if pk_key is None:
        return
    upto = None  # the sort-key parts the query fixes: those before its range field, else the literal prefix
    if sk_key is not None and sk_key.type == "S":
        stop = [i for i, part in enumerate(sk_key.template) if isinstance(part, Placeholder)
                and (p.range_field is None or part.field == p.range_field)]  # fmt: skip
        upto = stop[0] if stop else len(sk_key.template)
    for other in residents:
        if other is model:
            continue
        pa, po = model.key(keys[0]), other.key(keys[0])
        assert pa is not None and po is not None
        if overlap(language(pa, model, rules.of(model), values), language(po, other, rules.of(other), values)) is None:
            continue
        sa, so = model.key(keys[1]), other.key(keys[1])
        if sa is not None and so is not None and upto is not None:
            mine = language(sa, model, rules.of(model), values, upto=upto)
            found = overlap(mine, language(so, other, rules.of(other), values))
            if found is None:
                continue
            sample = f" (such as {keys[1]} {found!r})"
        else:
            sample = ""
        warn(p.loc, f"{where}: the query also reads {other.name} items{sample}, which the entity filter then drops; "
                    "they cost read capacity (give the sort-key templates different literal prefixes to avoid it)")  # fmt: skip

