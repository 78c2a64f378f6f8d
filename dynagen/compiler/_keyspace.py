"""Which texts a key template can produce, so that the compiler can prove keys never collide.

Each placeholder of a string key template stands for a set of texts fixed by its field's type: a date
is ``DDDD-DD-DD``, an int with ``{n:06}`` six digits, a string any non-empty text without the table's
separator characters for that key (see ``separators``). A template is the concatenation of its
literals and those sets: a regular language. Two templates can produce one key exactly when their
languages intersect, which a small product walk over two automata decides (and, when they do, finds
a witness key for the error message).

Characters are handled in classes: a class is a finite set of characters, or everything but a finite
set (a string part: anything but the separators). That is enough for every part type and needs no
alphabet of its own.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from dynagen.compiler._ir import Field, KeyAttr, Model, Placeholder

__all__ = ["Language", "fixed_alphabet", "language", "overlap", "separators"]

_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Chars:
    """A character class: ``chars``, or (``negated``) every character but ``chars``."""

    chars: frozenset[str]
    negated: bool = False

    def meet(self, other: Chars) -> Chars | None:
        """The characters in both classes, or None when there are none."""
        if self.negated and other.negated:
            return Chars(self.chars | other.chars, negated=True)
        if self.negated:
            kept = other.chars - self.chars
        elif other.negated:
            kept = self.chars - other.chars
        else:
            kept = self.chars & other.chars
        return Chars(kept) if kept else None

    def sample(self) -> str:
        """One character of the class (for witness keys in messages)."""
        if not self.negated:
            return min(self.chars)
        return next(c for c in "abcxyz0123456789ABCXYZ_" + "".join(map(chr, range(0x100, 0x200))) if c not in self.chars)


def _one(c: str) -> Chars:
    return Chars(frozenset(c))


class Language:
    """A nondeterministic automaton without empty moves: state 0 starts, ``final`` accepts."""

    def __init__(self) -> None:
        self.edges: list[list[tuple[Chars, int]]] = [[]]
        self.final = 0

    def _state(self) -> int:
        self.edges.append([])
        return len(self.edges) - 1

    def then(self, *classes: Chars) -> Language:
        """Append one character of each class in turn."""
        for cls in classes:
            nxt = self._state()
            self.edges[self.final].append((cls, nxt))
            self.final = nxt
        return self

    def text(self, literal: str) -> Language:
        return self.then(*(_one(c) for c in literal))

    def repeat(self, cls: Chars) -> Language:
        """Append one or more characters of ``cls``."""
        self.then(cls)
        self.edges[self.final].append((cls, self.final))
        return self

    def words(self, words: list[str]) -> Language:
        """Append one of ``words`` (each non-empty)."""
        end = self._state()
        for word in words:
            at = self.final
            for i, c in enumerate(word):
                nxt = end if i == len(word) - 1 else self._state()
                self.edges[at].append((_one(c), nxt))
                at = nxt
        self.final = end
        return self

    def anything(self) -> Language:
        """Append any text, the empty one included (a query prefix: keys that start with it)."""
        self.edges[self.final].append((Chars(frozenset(), negated=True), self.final))
        return self


def overlap(a: Language, b: Language) -> str | None:
    """A text both languages hold, or None when they share none (a breadth-first product walk)."""
    start = (0, 0)
    came: dict[tuple[int, int], tuple[tuple[int, int], str] | None] = {start: None}
    queue = deque([start])
    while queue:
        pair = queue.popleft()
        if pair == (a.final, b.final):
            out: list[str] = []
            step = came[pair]
            while step is not None:
                pair, char = step
                out.append(char)
                step = came[pair]
            return "".join(reversed(out))
        for cls_a, to_a in a.edges[pair[0]]:
            for cls_b, to_b in b.edges[pair[1]]:
                both = cls_a.meet(cls_b)
                if both is not None and (to_a, to_b) not in came:
                    came[(to_a, to_b)] = (pair, both.sample())
                    queue.append((to_a, to_b))
    return None


def separators(models: list[Model], attribute: str) -> frozenset[str]:
    """The first characters of every literal that follows a placeholder in any template of ``attribute``.

    String (and enum) key parts may not contain them: a part then ends exactly where its separator
    starts (a stored key splits back into its fields one way only), and a part that ends one
    model's template cannot run on into another model's longer key (``ORDER#{order_id}`` never
    equals ``ORDER#{order_id}#LINE#{line_no:04}``).
    """
    found: set[str] = set()
    for model in models:
        key = model.key(attribute)
        if key is None:
            continue
        for i, part in enumerate(key.template[1:], start=1):
            if isinstance(part, str) and isinstance(key.template[i - 1], Placeholder):
                found.add(part[0])
    return frozenset(found)


def fixed_alphabet(f: Field, ph: Placeholder, *, fixed_datetimes: bool) -> frozenset[str] | None:
    """Every character a typed key part can hold; None for string and enum parts (their values decide)."""
    kind = f.type.kind
    if kind == "int":
        return _DIGITS if ph.width else _DIGITS | {"-"}
    if kind == "decimal":
        return _DIGITS | ({"."} if ph.scale else set()) if ph.width else _DIGITS | {"-", "."}
    if kind == "date":
        return _DIGITS | {"-"}
    if kind == "datetime":
        return _DIGITS | {"-", ":", "T", "Z"} | ({"."} if fixed_datetimes else {".", "+"})
    if kind == "uuid":
        return _HEX | {"-"}
    return None


def _part(lang: Language, f: Field, ph: Placeholder, forbidden: frozenset[str], enum_values: list[str]) -> None:
    kind = f.type.kind
    d = Chars(_DIGITS)
    if kind == "int" and ph.width:
        lang.then(*([d] * ph.width))
    elif kind == "decimal" and ph.width and ph.scale:
        lang.then(*([d] * (ph.width - ph.scale - 1)), _one("."), *([d] * ph.scale))
    elif kind == "decimal" and ph.width:
        lang.then(*([d] * ph.width))
    elif kind in ("int", "decimal"):  # canonical text, over-approximated: a sign or digit, then digits (and a point)
        lang.then(Chars(_DIGITS | {"-"}))
        lang.edges[lang.final].append((Chars(_DIGITS | ({"."} if kind == "decimal" else set())), lang.final))
    elif kind == "date":
        lang.then(*[d] * 4).text("-").then(d, d).text("-").then(d, d)
    elif kind == "datetime":
        lang.then(*[d] * 4).text("-").then(d, d).text("-").then(d, d).text("T").then(d, d).text(":")
        lang.then(d, d).text(":").then(d, d).text(".").then(*[d] * 9).text("Z")
    elif kind == "uuid":
        h = Chars(_HEX)
        for size in (8, 4, 4, 4):
            lang.then(*[h] * size).text("-")
        lang.then(*[h] * 12)
    elif kind == "enum":
        lang.words(enum_values)
    else:  # string
        lang.repeat(Chars(forbidden, negated=True))


def language(
    key: KeyAttr,
    model: Model,
    forbidden: dict[str, frozenset[str]],
    enum_values: dict[str, list[str]],
    *,
    upto: int | None = None,
) -> Language:
    """The texts ``key`` of ``model`` can hold (``forbidden``: per field, the characters its text may not hold).

    With ``upto``, only the first ``upto`` template parts, followed by any text: the keys a query
    prefix matches. A key that is not a string template (a numeric or binary key holding a field
    itself) is any text: such keys are compared only with one another, and any two may be equal.
    """
    lang = Language()
    parts = key.template if upto is None else key.template[:upto]
    if key.type != "S":
        return lang.anything()
    for part in parts:
        if isinstance(part, str):
            lang.text(part)
            continue
        f = model.field(part.field)
        assert f is not None
        _part(lang, f, part, forbidden.get(f.name, frozenset()), enum_values.get(f.type.ref or "", []))
    return lang.anything() if upto is not None else lang
