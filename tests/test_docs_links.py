"""The README stays short and points to every docs/ file, and every relative link and anchor
in README.md and docs/*.md leads somewhere (anchors as GitHub makes them from headings)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_LINES = 250

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# [text](target) and ![alt](target); the target ends at whitespace or ")".
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
HTML_ID = re.compile(r"""<a\s[^>]*\b(?:id|name)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.split("\n"):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def heading_text(raw: str) -> str:
    """A heading as rendered text: links become their text, code and emphasis marks go."""
    text = re.sub(r"!?\[((?:[^\]\\]|\\.)*)\]\([^)]*\)", r"\1", raw)
    text = CODE_SPAN.sub(lambda m: m.group(2).strip(), text)
    text = re.sub(r"<[^>]+>", "", text)
    return text.replace("*", "")


def github_slug(text: str) -> str:
    """GitHub's heading anchor: lower case; letters, marks, digits, '-' and '_' kept, every
    other character dropped, each space a '-'."""
    kept = []
    for char in text.lower():
        category = unicodedata.category(char)
        if char in "-_" or char == " " or category[0] in "LMN":
            kept.append("-" if char == " " else char)
    return "".join(kept)


def anchors(path: Path) -> set[str]:
    """Every anchor GitHub gives the headings of a file (repeats get -1, -2, ...)."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for line in prose_lines(path.read_text("utf-8")):
        found.update(HTML_ID.findall(line))
        match = HEADING.match(line)
        if not match:
            continue
        slug = github_slug(heading_text(match.group(2)))
        if slug in seen:
            seen[slug] += 1
            found.add(f"{slug}-{seen[slug]}")
        else:
            seen[slug] = 0
            found.add(slug)
    return found


def links(path: Path) -> list[str]:
    targets = []
    for line in prose_lines(path.read_text("utf-8")):
        targets += LINK.findall(CODE_SPAN.sub("", line))
    return targets


def broken_links(path: Path) -> list[str]:
    broken = []
    for target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            continue  # http:, https:, mailto:: not ours to check
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / unquote(file_part)).resolve() if file_part else path
        if not dest.exists():
            broken.append(f"{target}: no file {dest}")
        elif anchor and (dest.suffix != ".md" or unquote(anchor) not in anchors(dest)):
            broken.append(f"{target}: no heading with that anchor in {dest.name}")
    return broken


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_and_anchor_resolves(path: Path) -> None:
    assert links(path), f"{path.name} links nowhere"
    assert broken_links(path) == []


def test_the_readme_is_short() -> None:
    lines = README.read_text("utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines (at most {README_MAX_LINES})"


def test_the_readme_links_every_docs_file() -> None:
    linked = {
        (ROOT / unquote(target.partition("#")[0])).resolve()
        for target in links(README)
        if target.partition("#")[0]
    }
    docs = set(DOCS.glob("*.md"))
    assert docs, "no docs/*.md"
    assert sorted(p.name for p in docs if p.resolve() not in linked) == []


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        (
            "## The public results site: `tagdraw publish`",
            "the-public-results-site-tagdraw-publish",
        ),
        ("### Commands (admins)", "commands-admins"),
        (
            "### Tables (migrations 0004_draw.sql, 0011_draw_unverified_entries.sql)",
            "tables-migrations-0004_drawsql-0011_draw_unverified_entriessql",
        ),
        (
            "### The draw (details in [How the draw is verified](draw.md#how))",
            "the-draw-details-in-how-the-draw-is-verified",
        ),
        ("### Performance (bench/x.py, bench/y.py)", "performance-benchxpy-benchypy"),
        ("## ภาพรวม / Overview", "ภาพรวม--overview"),
        ("### **Bold** and `code`", "bold-and-code"),
    ],
)
def test_slugs_are_the_ones_github_makes(heading: str, slug: str) -> None:
    match = HEADING.match(heading)
    assert match is not None
    assert github_slug(heading_text(match.group(2))) == slug


def test_a_broken_anchor_and_a_missing_file_are_found(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Other\n\n## A section\n", "utf-8")
    page.write_text(
        "# Page\n\n[ok](other.md#a-section) [ok](#page) [gone](other.md#no-section)\n"
        "[missing](nowhere.md) [self](#nothing)\n\n```\n[in code](ignored.md)\n```\n",
        "utf-8",
    )
    assert broken_links(page) == [
        "other.md#no-section: no heading with that anchor in other.md",
        f"nowhere.md: no file {tmp_path / 'nowhere.md'}",
        "#nothing: no heading with that anchor in page.md",
    ]
