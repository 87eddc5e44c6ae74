"""Margin-note toggles and deep links into notes, in Chromium on a phone-sized screen.

A note is ``<button class="sidenote-toggle" aria-expanded aria-controls>`` and the
``<span class="sidenote">`` it controls (see ``themes/default/static/js/notes.js``). On a
narrow screen a note is closed until opened; a link to a note, or to a mention inside
one, opens it and scrolls to it, whether the page is opened at that address or the link
is followed on the page. Without JavaScript every note shows. On a wide screen every note
is in the margin and its toggle says so.
"""

from __future__ import annotations

import pytest
from anchor_support import WAIT_MS, chromium, serve_folder

from builder.domtext import page_text
from builder.pipeline import BuildOptions, build
from conftest import article

PHONE = {"width": 390, "height": 700}
WIDE = {"width": 1400, "height": 900}
FILLER = "\n\n".join(f"Paragraph {n} of filler, long enough to push the notes below the "
                     "first screen of a phone, with nothing to annotate in it at all."
                     for n in range(25))
BODY = f"""
A first note{{>>Opened by its toggle.<<}} at the top.

{FILLER}

Near the end, ==a highlight=={{>>A note on the highlight.<<}} and a note alone{{>>A note that
names Ada Lovelace in passing.<<}}.

{FILLER}

[To the mention in the note](#m-ada-lovelace-1) and [to the lone note](#hl-3).
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("notes")
    files = {
        "site.yml": "title: Notes\nbase_url: https://example.org/\ntimezone: UTC\n"
                    "entities:\n  autolink: true\n",
        "content/entities/ada-lovelace.md":
            "---\nname: Ada Lovelace\ntype: person\n---\nA mathematician.\n",
        "content/a.md": article("Notes", "2024-05-01", body=BODY),
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    out = root / "out"
    build(root, BuildOptions(output=out, cache=False, jobs=1))
    with serve_folder(out) as base:
        yield base + "articles/a/"


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    yield page
    context.close()


def expect():  # noqa: ANN201 - playwright's expect, with this file's timeout
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    return expect


def toggle_of(page, note_id: str):  # noqa: ANN201 - a Locator
    return page.locator(f"button.sidenote-toggle[aria-controls='{note_id}']")


def test_the_markup_ties_each_toggle_to_its_note(phone, site):
    phone.goto(site)
    pairs = phone.eval_on_selector_all(
        "button.sidenote-toggle",
        "(buttons) => buttons.map((b) => [b.getAttribute('type'), b.getAttribute('aria-controls'),"
        " b.nextElementSibling.id, b.nextElementSibling.className, b.closest('p') !== null])")
    # a note on its own has its annotation's id; one on a highlight has sn-<its number>
    assert pairs == [["button", "hl-1", "hl-1", "sidenote", True],
                     ["button", "sn-2", "sn-2", "sidenote", True],
                     ["button", "hl-3", "hl-3", "sidenote", True]]


def test_a_toggle_opens_and_closes_its_note_and_says_so(phone, site):
    phone.goto(site)
    note, toggle = phone.locator("#hl-1"), toggle_of(phone, "hl-1")
    expect()(toggle).to_have_attribute("aria-expanded", "false")
    expect()(note).to_be_hidden()
    toggle.click()
    expect()(toggle).to_have_attribute("aria-expanded", "true")
    expect()(note).to_be_visible()
    toggle.click()
    expect()(toggle).to_have_attribute("aria-expanded", "false")
    expect()(note).to_be_hidden()


@pytest.mark.parametrize(("fragment", "note"), [("hl-3", "hl-3"),
                                                ("m-ada-lovelace-1", "hl-3")])
def test_opening_the_page_at_a_note_or_a_mention_in_one_opens_it_in_view(phone, site,
                                                                          fragment, note):
    phone.goto(f"{site}#{fragment}")
    target = phone.locator(f"#{fragment}")
    expect()(phone.locator(f"#{note}")).to_be_visible()
    expect()(toggle_of(phone, note)).to_have_attribute("aria-expanded", "true")
    expect()(target).to_be_in_viewport()
    # The other notes stay closed.
    expect()(phone.locator("#hl-1")).to_be_hidden()
    expect()(toggle_of(phone, "hl-1")).to_have_attribute("aria-expanded", "false")


@pytest.mark.parametrize("fragment", ["m-ada-lovelace-1", "hl-3"])
def test_following_a_link_on_the_page_opens_the_note_in_view(phone, site, fragment):
    phone.goto(site)
    expect()(phone.locator("#hl-3")).to_be_hidden()
    phone.locator(f".article-body a[href$='#{fragment}']").click()
    expect()(phone.locator("#hl-3")).to_be_visible()
    expect()(toggle_of(phone, "hl-3")).to_have_attribute("aria-expanded", "true")
    expect()(phone.locator(f"#{fragment}")).to_be_in_viewport()


def test_a_link_to_the_address_already_shown_opens_the_note_again(phone, site):
    phone.goto(f"{site}#hl-3")
    expect()(phone.locator("#hl-3")).to_be_in_viewport()
    toggle_of(phone, "hl-3").click()  # closed by hand, scrolled away
    expect()(phone.locator("#hl-3")).to_be_hidden()
    phone.evaluate("window.scrollTo(0, 0)")
    phone.locator(".article-body a[href$='#hl-3']").click()
    expect()(phone.locator("#hl-3")).to_be_visible()
    expect()(phone.locator("#hl-3")).to_be_in_viewport()


def test_the_list_of_highlights_and_notes_opens_a_lone_note(phone, site):
    phone.goto(site)
    phone.locator(".highlight-list a.highlight-link[href$='#hl-3']").click()
    expect()(phone.locator("#hl-3")).to_be_visible()
    expect()(phone.locator("#hl-3")).to_be_in_viewport()


def test_without_javascript_every_note_shows_and_no_toggle(browser, site):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(site)
    for ident in ("hl-1", "sn-2", "hl-3"):
        expect()(page.locator(f"#{ident}")).to_be_visible()
        expect()(toggle_of(page, ident)).to_be_hidden()
    context.close()


def test_on_a_wide_screen_every_note_is_in_the_margin(browser, site):
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    page.goto(site)
    for ident in ("hl-1", "sn-2", "hl-3"):
        expect()(page.locator(f"#{ident}")).to_be_visible()
        expect()(toggle_of(page, ident)).to_have_attribute("aria-expanded", "true")
    body = page.locator(".article-body").bounding_box()
    note = page.locator("#hl-1").bounding_box()
    assert note["x"] >= body["x"] + body["width"] - 1  # right of the text column
    page.set_viewport_size(PHONE)  # narrowed: the notes fold again, and say so
    expect()(toggle_of(page, "hl-1")).to_have_attribute("aria-expanded", "false")
    expect()(page.locator("#hl-1")).to_be_hidden()
    context.close()


def test_the_script_adds_no_text(phone, site):
    """Annotation positions count the page's text: the script must leave it as served."""
    phone.goto(site)
    html = phone.request.get(site).body()
    toggle_of(phone, "hl-1").click()
    expect()(phone.locator("#hl-1")).to_be_visible()
    assert phone.evaluate("document.body.textContent") == page_text(html, []).text


def test_a_changed_address_opens_the_note(phone, site):
    """Not by a click: the back button, or a script setting ``location.hash``."""
    phone.goto(site)
    expect()(phone.locator("#hl-3")).to_be_hidden()
    phone.evaluate("location.hash = '#m-ada-lovelace-1'")
    expect()(phone.locator("#hl-3")).to_be_visible()
    expect()(phone.locator("#m-ada-lovelace-1")).to_be_in_viewport()
