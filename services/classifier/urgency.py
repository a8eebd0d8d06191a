"""紧急诉求: does a text tell of a threat to life or safety now, and which emergency lines must take it?

Judged apart from topic and severity, by the readable rules in ``urgency_rules.toml`` (a county edits
them without retraining). :func:`assess_urgency` is pure; :func:`load_urgency_rules` is the only
function that reads a file.

How a text is read (the rule file explains the same to its editors):

* figurative or unrelated set phrases ("气死我了", "跳楼价", "燃气报装") are masked first;
* each category's phrases are matched per sentence (。！？；newline, and a dash "——" that turns to
  another matter);
* a hit does not count when a negation stands right before it ("没有人受伤") or inside
  it ("电线没断"); when the clause it ends in is framed as past, hypothetical or habitual
  (the frame runs forward through the sentence until a word of the present such as "现在"
  resets it, so "已经" or "去年" in one sentence never cancels another sentence); when its
  sentence asks about a procedure, gives advice or tells a drill or a story; when its
  sentence holds one of the category's ``unless`` words; or when the text later says it
  was resolved, a false alarm or a rumour ("火已经灭了", "已经救上来了", "虚惊一场", "谣言").

Linear time: every pattern is checked when the rules load to repeat only with a bound (``?`` or
``{m,n}`` with n ≤ 20, never a repeated group that itself repeats), and at most ``head_chars`` +
``tail_chars`` characters are read, so a 20,000-character 网上信访 costs what 5,000 characters cost.
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from hotline.services.classifier.regex_guard import guarded
from hotline.services.classifier.rules import trie_regex
from hotline.shared.events import EmergencyLine

RULES_PATH = Path(__file__).with_name("urgency_rules.toml")
MAX_REPEAT = 20  # the largest upper bound a rule may give a repetition
_NEGATION_WINDOW = 8  # characters before a hit that a negation must fall within
_MASK_CHAR = "□"
_SENTENCE_RE = re.compile(r"[^。！？!?；;\n—]+")  # a dash ("——") turns to another matter
_CLAUSE_BREAK_RE = re.compile(r"[，,、：:\s…~～]")
_LINE_ORDER = {line: i for i, line in enumerate(EmergencyLine)}
_IN_CLAUSE = r"[^，,。！？!?；;\n]"
# A negation inside a hit ("电线没断", "漏水不是燃气") undoes it, unless it belongs to a listed word
# ("没回家" is a word of 人员走失). Only word-list hits are checked in a category whose patterns use
# negations themselves ("叫也没反应", "人还没上来").
_NEGATION_INSIDE = re.compile(r"没有?|不是|并非|并未|未|唔系|唔係|冇")


@dataclass(frozen=True, slots=True)
class Urgency:
    urgent: bool
    reasons: list[str]  # Chinese, "类别：原话", e.g. ["轻生：不想活", "轻生：药都准备好"]
    lines: list[EmergencyLine]


@dataclass(frozen=True, slots=True)
class Frame:
    """A cue that makes what follows not an emergency now (past, hypothesis, advice, drill...)."""

    name: str
    scope: Literal["clause", "forward", "sentence"]
    pattern: re.Pattern[str]
    spares_threats: bool = False  # "要是不给钱我就跳楼" is still a threat: conditional categories ignore it


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    lines: tuple[EmergencyLine, ...]
    pattern: re.Pattern[str] | None  # the regular expressions (``patterns``)
    unless: tuple[str, ...] = ()
    resolved: re.Pattern[str] | None = None
    conditional: bool = False  # a threat ("不给钱我就跳楼") counts even when phrased as a condition
    ignores: frozenset[str] = frozenset()  # frames that do not apply ("前天出门" starts a disappearance)
    lexicon: re.Pattern[str] | None = None  # the word lists (``words``, ``concepts``)
    negative_words: tuple[str, ...] = ()  # listed words that hold a negation themselves ("没回家")
    negation_in_patterns: bool = False  # do its patterns hold negations ("叫也没反应")?
    guard: bool = False  # a hit is urgent whatever the learned arbiter says (a hard guard)
    # The ``unless`` words as one trie regex: searching each word apart cost more than jieba on
    # long texts (every category, every sentence).
    unless_pattern: re.Pattern[str] | None = field(default=None, init=False, compare=False, repr=False)
    # Its patterns, then its word lists (read for every sentence: built once).
    matchers: tuple[re.Pattern[str], ...] = field(default=(), init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.unless:
            object.__setattr__(self, "unless_pattern", re.compile(trie_regex(self.unless)))
        object.__setattr__(self, "matchers", tuple(p for p in (self.pattern, self.lexicon) if p is not None))


@dataclass(frozen=True, slots=True)
class Addition:
    """More lines for a case already urgent in one of ``to``: e.g. 120 when someone is hurt in a fire."""

    name: str
    lines: tuple[EmergencyLine, ...]
    pattern: re.Pattern[str]
    to: frozenset[str]


@dataclass(frozen=True, slots=True)
class NotNow:
    """A marker that the danger told is not happening now (past, drill, fiction, rumour, over...), for
    the frame the arbiter's bar reads (:mod:`urgency_frames`). ``scope``: ``"sentence"``, its own
    sentence only; ``"text"``, also the text's other danger sentences that say neither now nor not now
    (a drill notice's title); ``"after"``, like ``"text"`` but only the danger told before it ("火已扑灭"
    after the fire, not "火已经灭了，但是三楼还有人被困")."""

    name: str
    scope: Literal["sentence", "text", "after"]
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Framing:
    """``[framing]``: words of now and the kinds of not now (see the rule file)."""

    now: re.Pattern[str]
    not_now: tuple[NotNow, ...]


@dataclass(frozen=True, slots=True)
class UrgencyRules:
    head_chars: int
    tail_chars: int
    mask: re.Pattern[str] | None
    negation_before: re.Pattern[str]
    negated_harm: re.Pattern[str] | None
    present: re.Pattern[str]
    resolved_all: re.Pattern[str] | None
    frames: tuple[Frame, ...]
    categories: tuple[Category, ...]
    additions: tuple[Addition, ...] = ()
    framing: Framing | None = None  # round six: not-now frames raise the arbiter's bar
    # Every category's matchers as one pattern: most sentences hold no hit at all, and one search says
    # so before the frames, cues and clause breaks are read (a fifth of the classifier's time).
    any_hit: re.Pattern[str] | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        matchers = [m.pattern for c in self.categories for m in c.matchers]
        if matchers:
            # Guarded by the first characters of all of them: a position that starts none fails at once.
            object.__setattr__(self, "any_hit", re.compile(guarded("|".join(f"(?:{m})" for m in matchers))))


# ───────────────────────── bounded patterns ─────────────────────────


def _skip_group_prefix(source: str, i: int) -> int:
    """Index after the ``?:``, ``?=``, ``?<!``, ``?P<name>`` … that follows a ``(`` at ``i - 1``."""
    if i >= len(source) or source[i] != "?":
        return i
    i += 1
    if i < len(source) and source[i] == "P":
        i += 1
    if i < len(source) and source[i] == "<" and i + 1 < len(source) and source[i + 1] in "=!":
        return i + 2
    if i < len(source) and source[i] == "<":
        return source.index(">", i) + 1
    return i + 1 if i < len(source) and source[i] in ":=!>" else i


def _read_braces(source: str, i: int, where: str) -> int:
    """Validate the ``{m,n}`` starting at ``i``; return the index after it."""
    end = source.find("}", i)
    body = source[i + 1 : end] if end > 0 else ""
    parts = body.split(",")
    if end < 0 or len(parts) > 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"{where}: a repetition needs an upper bound: {{m,n}} (got {source[i : i + 8]!r})")
    if int(parts[-1]) > MAX_REPEAT:
        raise ValueError(f"{where}: repetition bound {parts[-1]} is over {MAX_REPEAT}")
    return end + 1


def check_bounded(source: str, where: str) -> None:
    """Refuse patterns whose matching time could grow faster than the text: ``*``, ``+``, ``{m,}``,
    bounds over :data:`MAX_REPEAT`, and a repeated group that already contains a repetition."""
    groups: list[bool] = []  # per open group: does it contain a repetition?
    i = 0
    while i < len(source):
        ch = source[i]
        quantified = False
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            j = i + 1 + (source[i + 1 : i + 2] in ("]", "^"))
            while j < len(source) and source[j] != "]":
                j += 2 if source[j] == "\\" else 1
            i = j + 1
        elif ch == "(":
            groups.append(False)
            i = _skip_group_prefix(source, i + 1)
            continue
        elif ch == ")":
            had = groups.pop() if groups else False
            i += 1
            if i < len(source) and source[i] in "?{*+" and had:
                raise ValueError(f"{where}: a repeated group must not repeat inside (nested repetition)")
            continue
        elif ch in "*+":
            raise ValueError(f"{where}: use a bounded repetition {{0,n}} instead of {ch!r}")
        elif ch == "{":
            i = _read_braces(source, i, where)
            quantified = True
        elif ch == "?":
            i += 1
            quantified = True
        else:
            i += 1
        if quantified:
            groups[:] = [True] * len(groups)
            if i < len(source) and source[i] == "?":  # lazy modifier
                i += 1


def _compile(patterns: Sequence[str], where: str) -> re.Pattern[str]:
    for p in patterns:
        check_bounded(p, f"{where} ({p[:40]}…)" if len(p) > 40 else f"{where} ({p})")
    try:
        return re.compile(guarded("|".join(f"(?:{p})" for p in patterns)))
    except re.error as exc:
        raise ValueError(f"{where}: invalid pattern: {exc}") from exc


def _strings(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{where}: expected a non-empty string or a list of them")
    return list(value)


def _optional(data: Mapping[str, Any], key: str, where: str) -> re.Pattern[str] | None:
    value = data.get(key)
    return _compile(_strings(value, f"{where}.{key}"), f"{where}.{key}") if value else None


# ───────────────────────── parsing ─────────────────────────


def _lines(value: Any, where: str) -> tuple[EmergencyLine, ...]:
    lines = _strings(value, f"{where}.lines")
    known = {line.value for line in EmergencyLine}
    if unknown := [line for line in lines if line not in known]:
        raise ValueError(f"{where}: unknown emergency line(s) {unknown} (use {', '.join(sorted(known))})")
    return tuple(EmergencyLine(line) for line in lines)


def _addition(a: Mapping[str, Any], categories: Sequence[Category]) -> Addition:
    where = f"addition {a.get('name')}"
    to = _strings(a.get("to"), f"{where}.to")
    names = {c.name for c in categories}
    if unknown := [name for name in to if name not in names]:
        raise ValueError(f"{where}: unknown categories {unknown}")
    pattern = _compile(_strings(a.get("patterns"), where), where)
    return Addition(str(a["name"]), _lines(a.get("lines"), where), pattern, frozenset(to))


def _words(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def concept_patterns(c: Mapping[str, Any], where: str) -> list[str]:
    """A category's lexicons as patterns: ``words`` (any one is the danger) and ``concepts`` (a word
    of ``what`` and a word of ``with`` within ``within`` characters of each other, in either order)."""
    words = _strings(c["words"], f"{where}.words") if c.get("words") else []
    patterns = [_words(words)] if words else []
    firsts = {word[0] for word in words}
    for i, concept in enumerate(c.get("concepts", [])):
        w = f"{where}.concepts[{i}]"
        what, near = _strings(concept.get("what"), f"{w}.what"), _strings(concept.get("with"), f"{w}.with")
        a, b = _words(what), _words(near)
        within = int(concept.get("within", 8))
        if not 0 <= within <= MAX_REPEAT:
            raise ValueError(f"{w}: within must be 0..{MAX_REPEAT}")
        gap = f"{_IN_CLAUSE}{{0,{within}}}"  # both words in one clause: "有点味，燃气公司来测过" is not a leak
        patterns.append(f"(?:{a}){gap}(?:{b})|(?:{b}){gap}(?:{a})")
        firsts |= {word[0] for word in what + near}
    if not patterns:
        return []
    # A lookahead on the words' first characters lets most positions fail at once: speed only (the
    # word lists then cost a quarter of what they cost without it).
    chars = "".join(re.escape(ch) for ch in sorted(firsts))
    return [f"(?=[{chars}])(?:{'|'.join(f'(?:{p})' for p in patterns)})"]


def _listed_words(c: Mapping[str, Any]) -> list[str]:
    words = list(c.get("words", []))
    for concept in c.get("concepts", []):
        words += [*concept.get("what", []), *concept.get("with", [])]
    return [w for w in words if isinstance(w, str)]


def _category(c: Mapping[str, Any]) -> Category:
    where = f"category {c.get('name')}"
    patterns = _strings(c["patterns"], where) if c.get("patterns") else []
    lexicon = concept_patterns(c, where)
    negative = sorted({w for w in _listed_words(c) if _NEGATION_INSIDE.search(w)}, key=len, reverse=True)
    if not patterns and not lexicon:
        raise ValueError(f"{where}: needs patterns, words or concepts")
    return Category(
        name=str(c["name"]),
        lines=_lines(c.get("lines"), where),
        pattern=_compile(patterns, where) if patterns else None,
        lexicon=_compile(lexicon, f"{where} (words)") if lexicon else None,
        negative_words=tuple(negative),
        negation_in_patterns=any(_NEGATION_INSIDE.search(p) for p in patterns),
        unless=tuple(_strings(c["unless"], f"{where}.unless")) if c.get("unless") else (),
        resolved=_optional(c, "resolved", where),
        conditional=bool(c.get("conditional", False)),
        guard=bool(c.get("guard", False)),
        ignores=frozenset(_strings(c["ignore_frames"], f"{where}.ignore_frames"))
        if c.get("ignore_frames")
        else frozenset(),
    )


def _framing(data: Mapping[str, Any] | None) -> Framing | None:
    if not data:
        return None
    now = _optional(data, "now", "framing")
    if now is None:
        raise ValueError("framing: now is required")
    kinds = []
    for k in data.get("not_now", []):
        where = f"framing.not_now {k.get('name')}"
        if k.get("scope") not in ("sentence", "text", "after"):
            raise ValueError(f"{where}: scope must be 'sentence', 'text' or 'after'")
        kinds.append(NotNow(str(k["name"]), k["scope"], _compile(_strings(k.get("pattern"), where), where)))
    return Framing(now, tuple(kinds))


def parse_urgency_rules(data: Mapping[str, Any]) -> UrgencyRules:
    """Build :class:`UrgencyRules` from the parsed TOML document (pure); every problem is a ValueError."""
    cues = data.get("cues", {})
    frames = []
    for f in cues.get("frame", []):
        scope = f.get("scope")
        if scope not in ("clause", "forward", "sentence"):
            raise ValueError(f"frame {f.get('name')}: scope must be 'clause', 'forward' or 'sentence'")
        pattern = _compile(_strings(f.get("pattern"), "frame"), f"frame {f['name']}")
        frames.append(Frame(str(f["name"]), scope, pattern, bool(f.get("spares_threats", False))))
    negation = _optional(cues, "negation_before", "cues")
    present = _optional(cues, "present", "cues")
    if negation is None or present is None:
        raise ValueError("cues: negation_before and present are required")
    categories = tuple(_category(c) for c in data.get("category", []))
    if not categories:
        raise ValueError("no [[category]] defined")
    return UrgencyRules(
        head_chars=int(data.get("head_chars", 4000)),
        tail_chars=int(data.get("tail_chars", 1000)),
        mask=_optional(data, "mask", "mask"),
        negation_before=negation,
        negated_harm=_optional(cues, "negated_harm", "cues"),
        present=present,
        resolved_all=_optional(cues, "resolved_all", "cues"),
        frames=tuple(frames),
        categories=categories,
        additions=tuple(_addition(a, categories) for a in data.get("addition", [])),
        framing=_framing(data.get("framing")),
    )


@lru_cache(maxsize=8)
def _load_cached(path: Path, mtime_ns: int) -> UrgencyRules:
    with path.open("rb") as fh:
        return parse_urgency_rules(tomllib.load(fh))


def load_urgency_rules(path: Path | None = None) -> UrgencyRules:
    """Read the rule file (default ``urgency_rules.toml`` beside this module); cached per mtime."""
    p = path or RULES_PATH
    return _load_cached(p, p.stat().st_mtime_ns)


# ───────────────────────── assessment ─────────────────────────


def bounded_text(text: str, head: int, tail: int) -> str:
    """The part of ``text`` the rule passes read: its first ``head`` and last ``tail`` characters."""
    if len(text) <= head + tail:
        return text
    return text[:head] + "\n" + text[len(text) - tail :]


@dataclass(frozen=True, slots=True)
class _Hit:
    category: Category
    words: str
    at: int  # offset in the scanned text


def _applies(frame: Frame, cat: Category) -> bool:
    return frame.name not in cat.ignores and not (cat.conditional and frame.spares_threats)


def _frame_at(cue_pos: Sequence[int], cue_frames: Sequence[Frame | None], at: int, cat: Category) -> Frame | None:
    """The frame in force at a hit's end: the last cue before it (a present word resets)."""
    i = bisect_left(cue_pos, at)
    frame = cue_frames[i - 1] if i else None
    return frame if frame is not None and _applies(frame, cat) else None


def _sentence_hits(sentence: str, offset: int, rules: UrgencyRules) -> list[_Hit]:
    if rules.any_hit is None or rules.any_hit.search(sentence) is None:
        return []
    framed = [f for f in rules.frames if f.scope == "sentence" and f.pattern.search(sentence)]
    cues: list[tuple[int, Frame | None]] = [(m.start(), None) for m in rules.present.finditer(sentence)]
    for f in rules.frames:
        if f.scope == "forward":
            cues.extend((m.start(), f) for m in f.pattern.finditer(sentence))
    cues.sort(key=lambda c: c[0])
    cue_pos, cue_frames = [c[0] for c in cues], [c[1] for c in cues]
    clause_cues = sorted(
        ((m.start(), f) for f in rules.frames if f.scope == "clause" for m in f.pattern.finditer(sentence)),
        key=lambda c: c[0],  # by position only: frames do not compare
    )
    clause_cue_pos = [c[0] for c in clause_cues]
    breaks = [m.start() for m in _CLAUSE_BREAK_RE.finditer(sentence)]
    negated = [m.span() for m in rules.negated_harm.finditer(sentence)] if rules.negated_harm else []
    negated_starts = [span[0] for span in negated]
    hits = []
    for cat in rules.categories:
        if (cat.unless_pattern and cat.unless_pattern.search(sentence)) or any(_applies(f, cat) for f in framed):
            continue
        checked = (cat.lexicon,) if cat.negation_in_patterns else cat.matchers
        for m, check in ((m, matcher in checked) for matcher in cat.matchers for m in matcher.finditer(sentence)):
            start, end = m.span()
            if check and _negated_inside(m.group(), cat.negative_words):
                continue
            b = bisect_left(breaks, start)
            clause_start = breaks[b - 1] + 1 if b else 0
            if rules.negation_before.search(sentence[max(clause_start, start - _NEGATION_WINDOW) : start]):
                continue
            n = bisect_right(negated_starts, end - 1)
            if n and negated[n - 1][1] > end - 1:  # the hit ends inside "没有人受伤"
                continue
            e = bisect_left(breaks, end)
            clause_end = breaks[e] if e < len(breaks) else len(sentence)
            if _frame_at(cue_pos, cue_frames, end, cat) is not None:
                continue
            end_clause_start = breaks[e - 1] + 1 if e else 0
            lo, hi = bisect_left(clause_cue_pos, end_clause_start), bisect_left(clause_cue_pos, clause_end)
            if any(_applies(f, cat) for _, f in clause_cues[lo:hi]):
                continue
            hits.append(_Hit(cat, m.group(), offset + start))
    return hits


def _negated_inside(hit: str, negative_words: Sequence[str]) -> bool:
    for word in negative_words:
        hit = hit.replace(word, "")
    return _NEGATION_INSIDE.search(hit) is not None


def _last_end(pattern: re.Pattern[str] | None, text: str) -> int:
    last = -1
    if pattern is not None:
        for m in pattern.finditer(text):
            last = m.end()
    return last


def sentences(text: str) -> list[tuple[int, str]]:
    """The sentences the rules read one by one, with their offsets (a dash "——" starts another)."""
    return [(m.start(), m.group()) for m in _SENTENCE_RE.finditer(text)]


def masked(text: str, rules: UrgencyRules) -> str:
    """``text`` with its figurative and unrelated set phrases blotted out (same length): what the
    rules read, and what the learned model reads too."""
    return _masked(rules.mask, text) if rules.mask is not None else text


@lru_cache(maxsize=2048)  # a batch's texts, read by three passes in turn
def _masked(mask: re.Pattern[str], text: str) -> str:
    # The rules, the arbiter and the batch's n-gram pass all read the same masked text: masking it
    # once instead of three times saves a third of jieba's time per text.
    return mask.sub(lambda m: _MASK_CHAR * len(m.group()), text)


def assess_urgency(text: str, rules: UrgencyRules | None = None) -> Urgency:
    """Is ``text`` a 紧急诉求? With the words that decided it and the emergency lines it implies."""
    r = rules or load_urgency_rules()
    scanned = masked(bounded_text(text, r.head_chars, r.tail_chars), r)
    hits: list[_Hit] = []
    for m in _SENTENCE_RE.finditer(scanned):
        hits.extend(_sentence_hits(m.group(), m.start(), r))
    if not hits:
        return Urgency(False, [], [])
    # "火已经灭了" later in the text resolves what came before it (one pass per pattern: linear).
    # A resolution ending after a hit resolves it ("起火，火已经灭了" may match from the first 火).
    resolved_all = _last_end(r.resolved_all, scanned)
    resolved = {c.name: max(resolved_all, _last_end(c.resolved, scanned)) for c in r.categories}
    hits = [h for h in hits if resolved[h.category.name] <= h.at + len(h.words)]
    if not hits:
        return Urgency(False, [], [])
    hits.sort(key=lambda h: h.at)
    reasons: list[str] = []
    lines: set[EmergencyLine] = set()
    for h in hits:
        reason = f"{h.category.name}：{h.words}"
        if reason not in reasons and len(reasons) < 6:
            reasons.append(reason)
        lines.update(h.category.lines)
    found = {h.category.name for h in hits}
    for add in r.additions:
        if add.to & found and (extra := add.pattern.search(scanned)):
            reasons.append(f"{add.name}：{extra.group()}")
            lines.update(add.lines)
    return Urgency(True, reasons, sorted(lines, key=_LINE_ORDER.__getitem__))
