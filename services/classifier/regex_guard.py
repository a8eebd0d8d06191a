"""A lookahead on a pattern's possible first characters, so that most positions fail at once.

Python's regular expression engine tries a pattern at every position of the text; for the rule
files' long alternations ("着火|起火|失火|…|(?:好大的|很大的)火|…") each try walks the alternatives,
and it only skips ahead by itself when every alternative starts with a plain character. Prefixing
``(?=[…])`` with the characters a match can start with lets a position that starts none of them fail
after one set test. The matches are the same (a lookahead consumes nothing and holds no group); a
pattern that may start with any character, or match the empty string, is left as it is.
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType
from typing import Any

# The parser is private (re._parser, CPython 3.11+); without it patterns stay unguarded: the same
# matches, found more slowly.
try:
    _sre_parse: ModuleType | None = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover
    _sre_parse = None

MAX_FIRST_CHARS = 512  # beyond this the set hardly rules out a position
_ZERO_WIDTH = frozenset({"AT", "ASSERT", "ASSERT_NOT"})
_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})

# What a match can start with (characters, and r"\d" or r"\s" for those classes), and may it be empty?
Start = tuple[frozenset[str], bool]
_NARROW_CATEGORIES = {"CATEGORY_DIGIT": r"\d", "CATEGORY_SPACE": r"\s"}  # few characters each


def _class_chars(items: Any) -> frozenset[str] | None:
    chars: set[str] = set()
    for op, arg in items:
        if str(op) == "LITERAL":
            chars.add(chr(arg))
        elif str(op) == "RANGE" and arg[1] - arg[0] < MAX_FIRST_CHARS:
            chars.update(chr(code) for code in range(arg[0], arg[1] + 1))
        elif str(op) == "CATEGORY" and str(arg) in _NARROW_CATEGORIES:
            chars.add(_NARROW_CATEGORIES[str(arg)])
        else:  # a negated set, a wide category (\w) or range: almost anything
            return None
    return frozenset(chars)


def _start_of(op: Any, arg: Any) -> Start | None:
    name = str(op)
    if name in _ZERO_WIDTH:
        return frozenset(), True
    if name == "LITERAL":
        return frozenset({chr(arg)}), False
    if name == "IN":
        chars = _class_chars(arg)
        return None if chars is None else (chars, False)
    if name == "SUBPATTERN":
        _group, add_flags, _del_flags, body = arg
        return None if add_flags & re.IGNORECASE else _start_of_sequence(body)
    if name == "BRANCH":
        starts = [_start_of_sequence(branch) for branch in arg[1]]
        if any(start is None for start in starts):
            return None
        known = [start for start in starts if start is not None]
        return frozenset().union(*(chars for chars, _ in known)), any(empty for _, empty in known)
    if name in _REPEATS:
        least, _most, body = arg
        start = _start_of_sequence(body)
        return None if start is None else (start[0], least == 0 or start[1])
    return None  # any character, a group reference, a conditional: no set to state


def _start_of_sequence(items: Any) -> Start | None:
    chars: frozenset[str] = frozenset()
    for op, arg in items:
        start = _start_of(op, arg)
        if start is None:
            return None
        chars |= start[0]
        if not start[1]:
            return chars, False
    return chars, True


def _engine_skips_ahead(items: Any) -> bool:
    """Does the engine find the start by itself (a first character, a set, or alternatives that
    each start with a character: what its own search prefix covers)? Then a guard only costs."""
    while len(items) and str(items[0][0]) == "SUBPATTERN":
        items = items[0][1][-1]
    if not len(items):
        return False
    op, arg = items[0]
    if str(op) == "ASSERT" and arg[0] == 1:  # already guarded by a lookahead of its own
        return True
    if str(op) in ("LITERAL", "IN"):
        return True
    return str(op) == "BRANCH" and all(len(branch) and str(branch[0][0]) == "LITERAL" for branch in arg[1])


def _parsed(source: str, flags: int) -> Any | None:
    """The parsed pattern, or None: no parser, case folding (given or inline), or not a pattern."""
    if _sre_parse is None or flags & re.IGNORECASE:
        return None
    try:
        parsed = _sre_parse.parse(source, flags)
    except re.error:
        return None
    return None if parsed.state.flags & re.IGNORECASE else parsed


def _first_chars_of(parsed: Any) -> frozenset[str] | None:
    start = _start_of_sequence(parsed)
    if start is None or start[1] or not start[0] or len(start[0]) > MAX_FIRST_CHARS:
        return None  # unknown, or the empty string matches (at every position)
    return start[0]


def first_chars(source: str, flags: int = 0) -> frozenset[str] | None:
    """What every match of ``source`` starts with, if it can be told (no IGNORECASE): characters,
    and ``r"\\d"`` or ``r"\\s"`` where such a class may come first."""
    parsed = _parsed(source, flags)
    return None if parsed is None else _first_chars_of(parsed)


def guarded(source: str, flags: int = 0) -> str:
    """``source`` with a lookahead on its first characters when they can be told, else unchanged."""
    parsed = _parsed(source, flags)
    chars = None if parsed is None else _first_chars_of(parsed)
    if chars is None or _engine_skips_ahead(parsed):
        return source
    members = "".join(item if item in _NARROW_CATEGORIES.values() else re.escape(item) for item in sorted(chars))
    return f"(?=[{members}])(?:{source})"
