"""Checklist definitions: load a TOML file, validate it, freeze it into a version.

A checklist is data, not code (see ``checklists/*.toml``). Loading checks every field and
reports all the problems at once, each with the key path where it was found, so whoever edits
the file can fix everything in one pass. A loaded :class:`Checklist` is immutable and carries
the SHA-256 of its canonical definition: reformatting the file or editing its comments keeps
the hash, changing any wording, weight or rule makes a new one. That is how a new checklist
version is told apart from the same one loaded again.

Paths in messages count from 0 in file order: ``sections[1].items[2]`` is the third
``[[sections.items]]`` block of the second ``[[sections]]`` block.

Plain Python on purpose (no Flask, no database): the CLI, the views and the tests all use it.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

LANGUAGES = ("ar", "fr", "en")
# When a locale has no wording of its own, French comes first: it is the chambers' working
# language after Arabic, and every validated wording has all three anyway.
FALLBACK_LANGUAGES = ("fr", "en", "ar")

PHOTO_ALWAYS, PHOTO_ON_FAIL, PHOTO_NEVER = "always", "on_fail", "never"
PHOTO_RULES = (PHOTO_ALWAYS, PHOTO_ON_FAIL, PHOTO_NEVER)
MAX_FIX_DAYS = 90

# Item and section keys end up in form field names, HTML ids and URLs: keep them plain.
_KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_CHECKLIST_KEY_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_TOML_POSITION_RE = re.compile(r"at line (\d+), column (\d+)")

# Tuples, not sets: missing keys are reported in the order the file is expected to have them.
_TOP_KEYS = ("key", "title", "comments_internal", "verdict", "sections")
_VERDICT_KEYS = ("compliant", "follow_up")
_SECTION_KEYS = ("key", "title", "items")
_ITEM_KEYS = ("key", "text", "weight", "critical", "photo", "fix_days", "na_allowed")
_ITEM_OPTIONAL_KEYS = ("hint",)


class ChecklistError(ValueError):
    """A checklist definition that cannot be used.

    ``problems`` lists every problem found (not only the first), each as ``"path: problem"``;
    ``source`` names the file or string it came from; ``line`` is set for TOML syntax errors.
    """

    def __init__(
        self, problems: str | list[str], *, source: str = "<string>", line: int | None = None
    ):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        self.line = line
        if len(self.problems) == 1:
            message = f"{source}: {self.problems[0]}"
        else:
            listed = "\n".join(f"  - {p}" for p in self.problems)
            message = f"{source}: {len(self.problems)} problems in checklist:\n{listed}"
        super().__init__(message)


def _language(locale: object) -> str | None:
    """``"ar"`` from ``"ar"``, ``"ar_MA"``, ``"ar-MA"`` or a Babel ``Locale``."""
    if locale is None:
        return None
    return str(locale).replace("-", "_").split("_")[0].lower() or None


def _pick(wording: Mapping[str, str], locale: object) -> str:
    for language in (_language(locale), *FALLBACK_LANGUAGES):
        if language and wording.get(language):
            return wording[language]
    return ""


def _frozen(wording: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(wording))


def _plain_number(value: float) -> int | float:
    # 2 and 2.0 are the same weight: store both as 2 so the content hash does not change.
    return int(value) if float(value).is_integer() else float(value)


@dataclass(frozen=True)
class Item:
    """One thing an inspector checks at a stall and answers pass, fail or N/A."""

    key: str
    section: str
    text: Mapping[str, str] = field(hash=False)
    hint: Mapping[str, str] | None = field(hash=False)
    weight: float
    critical: bool
    photo: str
    fix_days: int
    na_allowed: bool

    def label(self, locale: object) -> str:
        """The item's text in ``locale``, falling back to fr, then en, then ar."""
        return _pick(self.text, locale)

    def hint_label(self, locale: object) -> str | None:
        """The hint in ``locale`` (same fallback as :meth:`label`), or None if there is none."""
        return _pick(self.hint, locale) if self.hint else None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "text": dict(self.text)}
        if self.hint:
            data["hint"] = dict(self.hint)
        data.update(
            weight=_plain_number(self.weight),
            critical=self.critical,
            photo=self.photo,
            fix_days=self.fix_days,
            na_allowed=self.na_allowed,
        )
        return data


@dataclass(frozen=True)
class Section:
    """A group of items, one per rule being checked (reception, prices, ...)."""

    key: str
    title: Mapping[str, str] = field(hash=False)
    items: tuple[Item, ...]

    def label(self, locale: object) -> str:
        """The section title in ``locale``, falling back to fr, then en, then ar."""
        return _pick(self.title, locale)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": dict(self.title),
            "items": [item.to_dict() for item in self.items],
        }


@dataclass(frozen=True)
class Checklist:
    """One immutable version of a checklist.

    Build it with :func:`parse`, :func:`load_file` or :meth:`from_dict`, which validate;
    ``content_hash`` is always computed from the definition itself.
    """

    key: str
    title: Mapping[str, str] = field(hash=False)
    sections: tuple[Section, ...]
    compliant: float
    follow_up: float
    comments_internal: bool
    content_hash: str = field(init=False)
    _by_key: Mapping[str, Item] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # Frozen dataclass: derived fields have to be set through object.__setattr__.
        by_key = {item.key: item for section in self.sections for item in section.items}
        object.__setattr__(self, "_by_key", MappingProxyType(by_key))
        object.__setattr__(self, "content_hash", _content_hash(self.to_dict()))

    def items(self) -> tuple[Item, ...]:
        """Every item, in checklist order."""
        return tuple(self._by_key.values())

    def item(self, key: str) -> Item:
        """The item with this key; KeyError if the checklist has none."""
        try:
            return self._by_key[key]
        except KeyError:
            raise KeyError(f"no item {key!r} in checklist {self.key!r}") from None

    def label(self, locale: object) -> str:
        """The checklist title in ``locale``, falling back to fr, then en, then ar."""
        return _pick(self.title, locale)

    def to_dict(self) -> dict[str, Any]:
        """The canonical, JSON-able definition: what is stored with each version."""
        return {
            "key": self.key,
            "title": dict(self.title),
            "comments_internal": self.comments_internal,
            "verdict": {"compliant": self.compliant, "follow_up": self.follow_up},
            "sections": [section.to_dict() for section in self.sections],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<stored>") -> Checklist:
        """Rebuild a checklist from :meth:`to_dict` output, validating it again."""
        return _Validator(source).checklist(data)


def _content_hash(definition: Mapping[str, Any]) -> str:
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _show(value: object) -> str:
    """A value as it would appear in the TOML file, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    return str(value)


def _is_number(value: object) -> bool:
    # TOML booleans are Python bools, which are ints: never let `true` pass as a weight.
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Validator:
    """Walks a raw definition, collecting every problem before deciding."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}" if path else message)

    def checklist(self, data: object) -> Checklist:
        built = self._checklist(data)
        if self.problems or built is None:
            raise ChecklistError(self.problems or ["invalid checklist"], source=self.source)
        return built

    def _table(
        self, data: object, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> bool:
        """Check a table's shape: unknown keys (typos) and missing required keys."""
        if not isinstance(data, Mapping):
            self.problem(path, f"must be a table, got {_show(data)}")
            return False
        allowed = required + optional
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                guess = f"; did you mean {close[0]!r}?" if close else ""
                self.problem(_join(path, str(key)), f"unknown key{guess}")
        for key in required:
            if key not in data:
                self.problem(_join(path, key), "missing")
        return True

    def _key(self, value: object, path: str, pattern: re.Pattern[str], rule: str) -> str | None:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            self.problem(path, f"must be {rule}, got {_show(value)}")
            return None
        return value

    def _wording(self, value: object, path: str) -> Mapping[str, str] | None:
        if not isinstance(value, Mapping):
            self.problem(path, f"must be a table with ar, fr and en wording, got {_show(value)}")
            return None
        before = len(self.problems)
        for language in value:
            if language not in LANGUAGES:
                self.problem(_join(path, str(language)), "unknown language (use ar, fr, en)")
        for language in LANGUAGES:
            text = value.get(language)
            where = _join(path, language)
            if language not in value:
                self.problem(where, "missing (every wording needs ar, fr and en)")
            elif not isinstance(text, str):
                self.problem(where, f"must be a string, got {_show(text)}")
            elif not text.strip():
                self.problem(where, "must not be empty")
        if len(self.problems) > before:
            return None
        # Surrounding whitespace is layout (e.g. a multi-line string), not content.
        return _frozen({language: value[language].strip() for language in LANGUAGES})

    def _bool(self, value: object, path: str) -> bool | None:
        if not isinstance(value, bool):
            self.problem(path, f"must be true or false, got {_show(value)}")
            return None
        return value

    def _checklist(self, data: object) -> Checklist | None:
        if not self._table(data, "", _TOP_KEYS):
            return None
        assert isinstance(data, Mapping)
        key = None
        if "key" in data:
            key = self._key(
                data["key"],
                "key",
                _CHECKLIST_KEY_RE,
                "lowercase letters, digits, '-' and '_' (at most 64)",
            )
        title = self._wording(data["title"], "title") if "title" in data else None
        comments_internal = None
        if "comments_internal" in data:
            comments_internal = self._bool(data["comments_internal"], "comments_internal")
        thresholds = self._verdict(data["verdict"]) if "verdict" in data else None
        sections = self._sections(data["sections"]) if "sections" in data else None
        if self.problems:
            return None
        assert key and title and thresholds and sections and comments_internal is not None
        return Checklist(
            key=key,
            title=title,
            sections=sections,
            compliant=thresholds[0],
            follow_up=thresholds[1],
            comments_internal=comments_internal,
        )

    def _verdict(self, data: object) -> tuple[float, float] | None:
        if not self._table(data, "verdict", _VERDICT_KEYS):
            return None
        assert isinstance(data, Mapping)
        before = len(self.problems)
        shares = {}
        for name in ("compliant", "follow_up"):
            if name not in data:
                continue
            value, path = data[name], f"verdict.{name}"
            if not _is_number(value) or not math.isfinite(value):
                self.problem(path, f"must be a number between 0 and 1, got {_show(value)}")
            elif value <= 0:
                self.problem(path, f"must be greater than 0, got {_show(value)}")
            elif value > 1:
                # The usual slip is a percentage: say what to write instead.
                self.problem(path, f"must be at most 1 (a share: 0.85 means 85%), got {value}")
            else:
                shares[name] = float(value)
        if len(shares) == 2 and shares["follow_up"] > shares["compliant"]:
            self.problem(
                "verdict.follow_up",
                f"must not be above verdict.compliant ({shares['follow_up']} > "
                f"{shares['compliant']}): a stall cannot need follow-up at a score "
                "that would already be compliant",
            )
        if len(self.problems) > before or len(shares) < 2:
            return None
        return shares["compliant"], shares["follow_up"]

    def _sections(self, data: object) -> tuple[Section, ...] | None:
        if not isinstance(data, list):
            self.problem(
                "sections", f"must be an array of tables ([[sections]]), got {_show(data)}"
            )
            return None
        if not data:
            self.problem("sections", "must have at least one section")
            return None
        sections = []
        section_paths: dict[str, str] = {}
        item_paths: dict[str, str] = {}
        for index, raw in enumerate(data):
            section = self._section(raw, f"sections[{index}]", section_paths, item_paths)
            if section is not None:
                sections.append(section)
        return tuple(sections)

    def _section(
        self, data: object, path: str, section_paths: dict[str, str], item_paths: dict[str, str]
    ) -> Section | None:
        before = len(self.problems)
        if not self._table(data, path, _SECTION_KEYS):
            return None
        assert isinstance(data, Mapping)
        key = None
        if "key" in data:
            key = self._unique_key(data["key"], f"{path}.key", section_paths, "section")
        title = self._wording(data["title"], f"{path}.title") if "title" in data else None
        items: list[Item] = []
        raw_items = data.get("items")
        if "items" not in data:
            pass  # already reported as missing
        elif not isinstance(raw_items, list):
            self.problem(
                f"{path}.items",
                f"must be an array of tables ([[sections.items]]), got {_show(raw_items)}",
            )
        elif not raw_items:
            self.problem(f"{path}.items", "must have at least one item")
        else:
            for index, raw in enumerate(raw_items):
                item = self._item(raw, f"{path}.items[{index}]", key or "", item_paths)
                if item is not None:
                    items.append(item)
        if len(self.problems) > before or key is None or title is None:
            return None
        return Section(key=key, title=title, items=tuple(items))

    def _unique_key(self, value: object, path: str, seen: dict[str, str], what: str) -> str | None:
        key = self._key(
            value,
            path,
            _KEY_RE,
            "lowercase letters, digits and '_', starting with a letter (at most 64)",
        )
        if key is None:
            return None
        if key in seen:
            self.problem(path, f"duplicate {what} key {key!r}, already used at {seen[key]}")
            return None
        seen[key] = path.removesuffix(".key")
        return key

    def _item(
        self, data: object, path: str, section: str, item_paths: dict[str, str]
    ) -> Item | None:
        before = len(self.problems)
        if not self._table(data, path, _ITEM_KEYS, _ITEM_OPTIONAL_KEYS):
            return None
        assert isinstance(data, Mapping)
        key = None
        if "key" in data:
            # Unique across the whole checklist: answers and photos are keyed by item alone.
            key = self._unique_key(data["key"], f"{path}.key", item_paths, "item")
        text = self._wording(data["text"], f"{path}.text") if "text" in data else None
        hint = self._wording(data["hint"], f"{path}.hint") if "hint" in data else None

        weight = data.get("weight")
        if "weight" not in data:
            pass
        elif not _is_number(weight) or math.isnan(weight) or weight <= 0:
            self.problem(f"{path}.weight", f"must be a positive number, got {_show(weight)}")
        elif math.isinf(weight):
            self.problem(f"{path}.weight", "must be a finite number, got inf")

        critical = self._bool(data["critical"], f"{path}.critical") if "critical" in data else None
        na_allowed = None
        if "na_allowed" in data:
            na_allowed = self._bool(data["na_allowed"], f"{path}.na_allowed")
        if critical and na_allowed:
            self.problem(
                f"{path}.na_allowed",
                "must be false for a critical item: answering N/A would leave an essential "
                "rule unchecked, and the stall could never fail on it",
            )

        photo = data.get("photo")
        if "photo" in data and photo not in PHOTO_RULES:
            choices = ", ".join(_show(rule) for rule in PHOTO_RULES)
            self.problem(f"{path}.photo", f"must be one of {choices}, got {_show(photo)}")

        fix_days = data.get("fix_days")
        if "fix_days" in data and (
            not isinstance(fix_days, int)
            or isinstance(fix_days, bool)
            or not 1 <= fix_days <= MAX_FIX_DAYS
        ):
            self.problem(
                f"{path}.fix_days",
                f"must be a whole number of days from 1 to {MAX_FIX_DAYS}, got {_show(fix_days)}",
            )

        if len(self.problems) > before:
            return None
        assert key and text and critical is not None and na_allowed is not None
        return Item(
            key=key,
            section=section,
            text=text,
            hint=hint,
            weight=float(weight),  # type: ignore[arg-type]
            critical=critical,
            photo=photo,  # type: ignore[arg-type]
            fix_days=fix_days,  # type: ignore[arg-type]
            na_allowed=na_allowed,
        )


def parse(text: str, *, source: str = "<string>") -> Checklist:
    """Parse and validate a checklist written in TOML.

    Raises :class:`ChecklistError` listing every problem; a TOML syntax error is reported
    with its line and column, and the offending line.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = f"TOML syntax error: {exc}"
        line = None
        position = _TOML_POSITION_RE.search(str(exc))
        if position:
            line = int(position.group(1))
            lines = text.splitlines()
            if 0 < line <= len(lines):
                message += f": {lines[line - 1].strip()!r}"
        raise ChecklistError(message, source=source, line=line) from exc
    return _Validator(source).checklist(data)


def load_file(path: str | Path) -> Checklist:
    """Read, parse and validate a checklist file (UTF-8, with or without a BOM)."""
    path = Path(path)
    try:
        # utf-8-sig: a BOM added by a Windows editor is not a reason to refuse the file.
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ChecklistError(f"not valid UTF-8 text ({exc})", source=str(path)) from exc
    return parse(text, source=str(path))
