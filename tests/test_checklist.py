"""Loading and validating checklist definitions (compliance.checklist).

Pure unit tests: no Flask app, no database. Broken definitions are variants of
tests/checklists/valid.toml with one line changed, or small fixture files.
"""

import dataclasses
import json
import re
from pathlib import Path

import pytest

from compliance.checklist import LANGUAGES, Checklist, ChecklistError, load_file, parse

HERE = Path(__file__).resolve().parent
AFCON = HERE.parent / "checklists" / "afcon-2025.toml"
FIXTURES = HERE / "checklists"
VALID = (FIXTURES / "valid.toml").read_text(encoding="utf-8")
ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")


def variant(old: str, new: str) -> str:
    """valid.toml with its one occurrence of ``old`` replaced by ``new``."""
    assert VALID.count(old) == 1, f"{old!r} must occur exactly once in valid.toml"
    return VALID.replace(old, new)


def problems_of(text: str) -> list[str]:
    with pytest.raises(ChecklistError) as info:
        parse(text)
    return info.value.problems


# -- the real AFCON 2025 checklist ------------------------------------------------------------


@pytest.fixture(scope="module")
def afcon() -> Checklist:
    return load_file(AFCON)


def test_afcon_checklist_has_one_section_per_rule(afcon):
    assert afcon.key == "afcon-2025"
    assert [section.key for section in afcon.sections] == [
        "reception",
        "prices",
        "badge",
        "cleanliness",
        "epayment",
    ]
    assert all(2 <= len(section.items) <= 4 for section in afcon.sections)
    assert (afcon.compliant, afcon.follow_up) == (0.85, 0.60)


def test_afcon_checklist_is_worded_in_arabic_french_and_english(afcon):
    wordings = [afcon.title]
    wordings += [section.title for section in afcon.sections]
    wordings += [item.text for item in afcon.items()]
    wordings += [item.hint for item in afcon.items() if item.hint]
    for wording in wordings:
        assert all(wording[language].strip() for language in LANGUAGES), wording
        # Guards against French pasted into the Arabic slot, which validation cannot see.
        assert ARABIC_LETTER.search(wording["ar"]), wording
        assert not ARABIC_LETTER.search(wording["fr"] + wording["en"]), wording


def test_afcon_critical_items_are_few_and_never_na(afcon):
    critical = [item for item in afcon.items() if item.critical]
    assert 3 <= len(critical) <= 5
    assert not any(item.na_allowed for item in critical)
    assert {"price_on_every_product", "badge_worn", "epay_available"} <= {i.key for i in critical}


def test_afcon_items_stay_in_inspector_ranges(afcon):
    for item in afcon.items():
        assert 1 <= item.weight <= 3, item.key
        assert 1 <= item.fix_days <= 7, item.key


def test_afcon_price_and_cleanliness_failures_need_a_photo(afcon):
    for section in afcon.sections:
        if section.key in ("prices", "cleanliness"):
            assert all(item.photo in ("on_fail", "always") for item in section.items)


# -- a valid definition -----------------------------------------------------------------------


def test_valid_fixture_loads_into_frozen_objects():
    checklist = load_file(FIXTURES / "valid.toml")
    assert [item.key for item in checklist.items()] == ["price_shown", "price_arabic", "corridor"]
    assert checklist.item("corridor").section == "cleanliness"
    assert checklist.item("price_shown").weight == 3.0
    assert checklist.item("price_arabic").hint["fr"] == "L'arabe est obligatoire"
    assert checklist.item("corridor").hint is None
    assert checklist.comments_internal is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        checklist.key = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        checklist.title["fr"] = "autre"  # type: ignore[index]


def test_unknown_item_key_raises_key_error():
    with pytest.raises(KeyError, match="nope"):
        parse(VALID).item("nope")


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("ar", "السعر ظاهر"),
        ("en", "Price shown"),
        ("en_GB", "Price shown"),
        ("ar-MA", "السعر ظاهر"),
    ],
)
def test_label_uses_the_locale(locale, expected):
    assert parse(VALID).item("price_shown").label(locale) == expected


@pytest.mark.parametrize("locale", ["de", None, ""])
def test_label_falls_back_to_french(locale):
    checklist = parse(VALID)
    assert checklist.item("price_shown").label(locale) == "Prix affiché"
    assert checklist.sections[0].label(locale) == "Prix"
    assert checklist.label(locale) == "Liste de test"


def test_wording_is_stripped_of_surrounding_whitespace():
    text = variant('en = "Price shown"', 'en = "  Price shown\\n"')
    assert parse(text).item("price_shown").text["en"] == "Price shown"


def test_follow_up_may_equal_compliant():
    checklist = parse(variant("follow_up = 0.60", "follow_up = 0.85"))
    assert checklist.follow_up == checklist.compliant == 0.85


# -- validation: one rule each ----------------------------------------------------------------


def test_weight_must_be_positive():
    assert problems_of(variant("weight = 3", "weight = -1")) == [
        "sections[0].items[0].weight: must be a positive number, got -1"
    ]


@pytest.mark.parametrize("bad", ["0", '"3"', "true", "nan", "inf"])
def test_weight_must_be_a_finite_positive_number(bad):
    (problem,) = problems_of(variant("weight = 3", f"weight = {bad}"))
    assert problem.startswith("sections[0].items[0].weight: must be a")


def test_misspelt_key_is_unknown_and_the_real_one_missing():
    assert problems_of(variant("weight = 3", "wieght = 3")) == [
        "sections[0].items[0].wieght: unknown key; did you mean 'weight'?",
        "sections[0].items[0].weight: missing",
    ]


def test_unknown_top_level_key():
    assert problems_of("colour = 'red'\n" + VALID) == ["colour: unknown key"]


def test_unknown_verdict_key():
    problems = problems_of(variant("follow_up = 0.60", "followup = 0.60"))
    assert problems == [
        "verdict.followup: unknown key; did you mean 'follow_up'?",
        "verdict.follow_up: missing",
    ]


@pytest.mark.parametrize(
    ("line", "path"),
    [
        ("fix_days = 1", "sections[0].items[0].fix_days"),
        ("critical = true", "sections[0].items[0].critical"),
        ("na_allowed = true", "sections[1].items[0].na_allowed"),
        ('photo = "always"', "sections[1].items[0].photo"),
        ("comments_internal = true", "comments_internal"),
    ],
)
def test_required_key_missing(line, path):
    assert problems_of(variant(line, "")) == [f"{path}: missing"]


def test_missing_title():
    text = variant('title = { ar = "النظافة", fr = "Propreté", en = "Cleanliness" }', "")
    assert problems_of(text) == ["sections[1].title: missing"]


def test_every_wording_needs_all_three_languages():
    text = variant(
        'text = { ar = "الممر نظيف", fr = "Allée propre", en = "Aisle clean" }',
        'text = { ar = "الممر نظيف", en = "Aisle clean" }',
    )
    assert problems_of(text) == [
        "sections[1].items[0].text.fr: missing (every wording needs ar, fr and en)"
    ]


def test_checklist_title_needs_all_three_languages():
    assert problems_of(variant('ar = "قائمة اختبار"', "")) == [
        "title.ar: missing (every wording needs ar, fr and en)"
    ]


def test_wording_must_not_be_empty():
    text = variant('fr = "Prix", en = "Prices"', 'fr = "Prix", en = "  "')
    assert problems_of(text) == ["sections[0].title.en: must not be empty"]


def test_wording_in_an_unknown_language():
    text = variant('en = "Price in Arabic" }', 'en = "Price in Arabic", es = "Precio" }')
    assert problems_of(text) == ["sections[0].items[1].text.es: unknown language (use ar, fr, en)"]


def test_wording_must_be_a_table():
    text = variant(
        'text = { ar = "الممر نظيف", fr = "Allée propre", en = "Aisle clean" }',
        'text = "Aisle clean"',
    )
    assert problems_of(text) == [
        'sections[1].items[0].text: must be a table with ar, fr and en wording, got "Aisle clean"'
    ]


def test_hint_is_optional_but_complete_when_given():
    text = variant('ar = "العربية إلزامية", fr', "fr")
    assert problems_of(text) == [
        "sections[0].items[1].hint.ar: missing (every wording needs ar, fr and en)"
    ]


@pytest.mark.parametrize("bad", ['"Corridor"', '"2corridor"', '"aisle-front"', '""', "3"])
def test_item_key_format(bad):
    (problem,) = problems_of(variant('key = "corridor"', f"key = {bad}"))
    assert problem.startswith("sections[1].items[0].key: must be lowercase letters, digits and '_'")
    assert problem.endswith(f"got {bad}")


def test_checklist_key_format():
    assert problems_of(variant('key = "test-small"', 'key = "Test Small"')) == [
        "key: must be lowercase letters, digits, '-' and '_' (at most 64), got \"Test Small\""
    ]


def test_item_keys_are_unique_across_sections():
    assert problems_of(variant('key = "corridor"', 'key = "price_shown"')) == [
        "sections[1].items[0].key: duplicate item key 'price_shown', "
        "already used at sections[0].items[0]"
    ]


def test_section_keys_are_unique():
    assert problems_of(variant('key = "cleanliness"', 'key = "prices"')) == [
        "sections[1].key: duplicate section key 'prices', already used at sections[0]"
    ]


@pytest.mark.parametrize("bad", ['"on-fail"', '"sometimes"', "true"])
def test_photo_rule_is_one_of_three(bad):
    assert problems_of(variant('photo = "on_fail"', f"photo = {bad}")) == [
        f'sections[0].items[0].photo: must be one of "always", "on_fail", "never", got {bad}'
    ]


@pytest.mark.parametrize("bad", ["0", "91", "-2", "1.5", '"3"', "true"])
def test_fix_days_is_a_whole_number_from_1_to_90(bad):
    assert problems_of(variant("fix_days = 1", f"fix_days = {bad}")) == [
        f"sections[0].items[0].fix_days: must be a whole number of days from 1 to 90, got {bad}"
    ]


def test_fix_days_may_be_90():
    assert parse(variant("fix_days = 1", "fix_days = 90")).item("price_shown").fix_days == 90


def test_flags_must_be_booleans():
    assert problems_of(variant("critical = true", 'critical = "yes"')) == [
        'sections[0].items[0].critical: must be true or false, got "yes"'
    ]


def test_critical_item_with_na_allowed_says_why():
    text = variant("weight = 2\n  critical = false", "weight = 2\n  critical = true")
    (problem,) = problems_of(text)
    assert problem.startswith("sections[1].items[0].na_allowed: must be false for a critical item")
    assert "essential rule unchecked" in problem


@pytest.mark.parametrize(
    ("compliant", "follow_up", "expected"),
    [
        (
            "0.85",
            "0.9",
            "verdict.follow_up: must not be above verdict.compliant (0.9 > 0.85): "
            "a stall cannot need follow-up at a score that would already be compliant",
        ),
        ("85", "0.6", "verdict.compliant: must be at most 1 (a share: 0.85 means 85%), got 85"),
        ("0.85", "0", "verdict.follow_up: must be greater than 0, got 0"),
        ("0.85", "-0.1", "verdict.follow_up: must be greater than 0, got -0.1"),
        ('"high"', "0.6", 'verdict.compliant: must be a number between 0 and 1, got "high"'),
    ],
)
def test_verdict_thresholds(compliant, follow_up, expected):
    text = variant(
        "compliant = 0.85\nfollow_up = 0.60", f"compliant = {compliant}\nfollow_up = {follow_up}"
    )
    assert problems_of(text) == [expected]


def test_at_least_one_section():
    head = VALID.split("[[sections]]")[0]
    assert problems_of("sections = []\n" + head) == ["sections: must have at least one section"]


def test_no_sections_at_all():
    assert problems_of(VALID.split("[[sections]]")[0]) == ["sections: missing"]


def test_every_section_has_at_least_one_item():
    head, prices, _cleanliness = VALID.split("[[sections]]")
    empty = '[[sections]]\nkey = "empty"\ntitle = { ar = "فارغ", fr = "Vide", en = "Empty" }\n'
    text = head + "[[sections]]" + prices + empty + "items = []\n"
    assert problems_of(text) == ["sections[1].items: must have at least one item"]


def test_all_problems_are_reported_together():
    with pytest.raises(ChecklistError) as info:
        load_file(FIXTURES / "broken_many.toml")
    error = info.value
    assert [problem.split(": ")[0] for problem in error.problems] == [
        "key",
        "title.en",
        "comments_internal",
        "verdict.compliant",
        "sections[0].items[0].wieght",
        "sections[0].items[0].weight",
        "sections[0].items[0].na_allowed",
        "sections[0].items[0].photo",
        "sections[0].items[0].fix_days",
        "sections[0].items[1].key",
        "sections[0].items[1].text.ar",
        "sections[0].items[1].weight",
    ]
    message = str(error)
    assert message.startswith(f"{FIXTURES / 'broken_many.toml'}: 12 problems in checklist:")
    assert all(problem in message for problem in error.problems)
    assert isinstance(error, ValueError)


def test_toml_syntax_error_gives_the_line():
    with pytest.raises(ChecklistError) as info:
        load_file(FIXTURES / "syntax_error.toml")
    assert info.value.line == 9
    assert "TOML syntax error" in str(info.value)
    assert "line 9" in str(info.value)
    assert "compliant = = 0.85" in str(info.value)


def test_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(VALID.replace("Propreté", "Propret\xe9").encode("latin-1", "replace"))
    with pytest.raises(ChecklistError, match="not valid UTF-8"):
        load_file(path)


def test_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode("utf-8"))
    assert load_file(path) == parse(VALID)


# -- versions: content hash and round trip ----------------------------------------------------


def test_content_hash_is_a_sha256_hex():
    assert re.fullmatch(r"[0-9a-f]{64}", parse(VALID).content_hash)


def test_content_hash_ignores_layout_and_comments():
    original = parse(VALID)
    reformatted = load_file(FIXTURES / "valid_reformatted.toml")
    commented = parse("# a new comment\n" + VALID.replace("weight = 3", "weight = 3   # heavy"))
    assert reformatted.content_hash == original.content_hash
    assert commented.content_hash == original.content_hash
    assert reformatted == original


def test_content_hash_changes_with_a_weight():
    assert parse(variant("weight = 3", "weight = 2")).content_hash != parse(VALID).content_hash


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('en = "Price shown"', 'en = "Price displayed"'),
        ("comments_internal = true", "comments_internal = false"),
        ("compliant = 0.85", "compliant = 0.9"),
        ('photo = "never"', 'photo = "on_fail"'),
    ],
)
def test_content_hash_changes_with_the_definition(old, new):
    assert parse(variant(old, new)).content_hash != parse(VALID).content_hash


def test_to_dict_from_dict_round_trip():
    checklist = parse(VALID)
    stored = json.loads(json.dumps(checklist.to_dict()))  # as it comes back from the database
    rebuilt = Checklist.from_dict(stored)
    assert rebuilt == checklist
    assert rebuilt.content_hash == checklist.content_hash
    assert rebuilt.to_dict() == checklist.to_dict()


def test_to_dict_has_the_file_layout():
    data = parse(VALID).to_dict()
    assert data["verdict"] == {"compliant": 0.85, "follow_up": 0.6}
    assert data["sections"][0]["items"][0] == {
        "key": "price_shown",
        "text": {"ar": "السعر ظاهر", "fr": "Prix affiché", "en": "Price shown"},
        "weight": 3,
        "critical": True,
        "photo": "on_fail",
        "fix_days": 1,
        "na_allowed": False,
    }
    assert "hint" in data["sections"][0]["items"][1]


def test_from_dict_validates_again():
    data = parse(VALID).to_dict()
    data["sections"][0]["items"][0]["weight"] = 0
    with pytest.raises(ChecklistError) as info:
        Checklist.from_dict(data)
    assert info.value.problems == ["sections[0].items[0].weight: must be a positive number, got 0"]
    assert str(info.value).startswith("<stored>: ")


def test_afcon_round_trip(afcon):
    assert Checklist.from_dict(afcon.to_dict()).content_hash == afcon.content_hash
