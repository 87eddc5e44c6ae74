"""Automatic mention linking and the name-matching rules."""

import pytest

from builder.lexicon import RegistryEntry, build_lexicon, name_key
from builder.markdown import render
from conftest import parse_fragment


def entry(slug, name, aliases=(), case_sensitive=(), weak=()):
    return RegistryEntry(slug, name, f"content/entities/{slug}.md", list(aliases),
                         list(case_sensitive), list(weak), {"aliases": 4})


REGISTRY = [
    entry("mir-shafiq-mengal", "Mir Shafiq Mengal", weak=["Mengal"]),
    entry("nasir-mengal", "Nasir Mengal"),
    entry("lashkar-e-taiba", "Lashkar-e-Taiba", ["LeT"], ["LeT"]),
    entry("inter-services-intelligence", "Inter-Services Intelligence", weak=["ISI"]),
    entry("islamic-state", "Islamic State", ["ISIS"], ["ISIS"]),
    entry("zurich", "Zürich"),
    entry("ahl-e-hadith", "Ahl-e-Hadith"),
    entry("ehsan", "Ehsanullah Ehsan"),
]
LEXICON, PROBLEMS = build_lexicon(REGISTRY, autolink=True)


def mentions(text):
    result = render(text, lexicon=LEXICON)
    return [(m.entity, m.quote.exact) for m in result.mentions]


def test_registry_has_no_collisions():
    assert PROBLEMS == []


def test_longest_match_first_and_bare_surname_left_alone():
    assert mentions("Mir Shafiq Mengal, son of Nasir Mengal. Mengal said.") == [
        ("mir-shafiq-mengal", "Mir Shafiq Mengal"), ("nasir-mengal", "Nasir Mengal")]


def test_case_sensitive_aliases_match_only_exactly():
    assert mentions("Let me say LeT, not let or LET.") == [("lashkar-e-taiba", "LeT")]


def test_weak_aliases_are_never_matched_automatically():
    assert mentions("The ISI and ISIS.") == [("islamic-state", "ISIS")]


@pytest.mark.parametrize("written", ["Lashkar e Taiba", "Lashkar‐e‐Taiba", "lashkar-e-taiba",
                                     "LASHKAR-E-TAIBA"])
def test_hyphens_spaces_and_case_fold(written):
    assert mentions(f"Members of {written} met.") == [("lashkar-e-taiba", written)]


def test_diacritics_fold_and_offsets_map_back():
    assert mentions("In Zurich and in ZÜRICH and Zürich.") == [
        ("zurich", "Zurich"), ("zurich", "ZÜRICH"), ("zurich", "Zürich")]


def test_curly_and_straight_quotes_are_equivalent():
    assert mentions("Ehsanullah Ehsan’s claim and Ehsanullah Ehsan's claim") == [
        ("ehsan", "Ehsanullah Ehsan"), ("ehsan", "Ehsanullah Ehsan")]
    assert name_key("O’Brien") == name_key("O'Brien")


def test_word_boundaries_and_punctuation_break_names():
    assert mentions("Zurichers and Mir. Shafiq Mengal") == []


def test_never_in_code_links_headings_or_existing_mentions():
    text = ("## Nasir Mengal\n\n`Nasir Mengal` [Nasir Mengal](https://x.org) "
            "[[nasir-mengal|Nasir Mengal]] and Nasir Mengal.")
    result = render(text, lexicon=LEXICON)
    assert [(m.id, m.explicit) for m in result.mentions] == [
        ("m-nasir-mengal-1", True), ("m-nasir-mengal-2", False)]


def test_only_the_first_automatic_mention_links_but_all_get_ids():
    root = parse_fragment(render("LeT and LeT and LeT.", lexicon=LEXICON).html)
    found = [(el.tag, el.get("id")) for el in root.iter() if el.get("class") == "mention"]
    assert found == [("a", "m-lashkar-e-taiba-1"), ("span", "m-lashkar-e-taiba-2"),
                     ("span", "m-lashkar-e-taiba-3")]


def test_autolink_off_finds_nothing():
    quiet, _ = build_lexicon(REGISTRY, autolink=False)
    assert render("Nasir Mengal", lexicon=quiet).mentions == []


def test_wikilink_resolution_order_slug_then_name_then_alias():
    registry = [entry("isi", "Inter-Services Intelligence", weak=["ISI"]),
                entry("other", "ISI")]  # a name beats another entity's weak alias
    lexicon, _ = build_lexicon(registry, autolink=False)
    assert lexicon.resolve("isi") == ("isi", ["isi"])  # slug first
    assert lexicon.resolve("inter services intelligence")[0] == "isi"
    assert lexicon.resolve("ISI ")[0] == "isi"  # "isi" is also a slug


def test_ambiguous_weak_alias_has_candidates():
    lexicon, _ = build_lexicon([entry("mir-shafiq-mengal", "Mir Shafiq Mengal", weak=["Mengal"]),
                                entry("nasir-mengal", "Nasir Mengal", weak=["Mengal"])], False)
    assert lexicon.resolve("Mengal") == (None, ["mir-shafiq-mengal", "nasir-mengal"])


def test_alias_claimed_twice_names_both_files():
    _, problems = build_lexicon([entry("a", "Alpha", ["Shared"]), entry("b", "Beta", ["shared"])],
                                autolink=True)
    assert problems == [("content/entities/b.md", 4,
                         'alias "shared" is also claimed by content/entities/a.md ("Alpha")')]
