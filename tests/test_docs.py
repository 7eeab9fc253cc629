"""The documentation: the MkDocs site builds with --strict (no broken link, anchor or
missing page; the API pages rendered from the docstrings), and the README is a front door
whose links all lead somewhere."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def build(site: Path, config: Path = ROOT / "mkdocs.yml") -> subprocess.CompletedProcess:
    pytest.importorskip("mkdocs", reason="the docs extra is not installed (pip install -e '.[docs]')")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "--site-dir", str(site)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_docs_build_strict(tmp_path):
    r = build(tmp_path / "site")
    assert r.returncode == 0, r.stderr[-3000:]
    site = tmp_path / "site"
    for page in ("index.html", "install/index.html", "commands/index.html", "heads/index.html",
                 "tests/index.html", "reference/analysis/index.html"):
        assert (site / page).is_file(), page
    # the API reference is rendered from the docstrings, not written by hand
    api = (site / "reference" / "analysis" / "index.html").read_text()
    assert "Analyse a file path or a sample array into a viseme weight track." in api
    assert "face3d.track.WeightTrack" in api


def test_docs_build_fails_on_a_broken_link(tmp_path):
    """--strict is what catches a page that links to nothing: the same site with one broken
    link added must not build."""
    docs = tmp_path / "docs"
    import shutil

    shutil.copytree(ROOT / "docs", docs)
    (docs / "index.md").write_text((docs / "index.md").read_text() + "\n[gone](no_such_page.md)\n")
    cfg = tmp_path / "mkdocs.yml"
    text = (ROOT / "mkdocs.yml").read_text()
    text = text.replace("docs_dir: docs", f"docs_dir: {docs}").replace("paths: [.]", f"paths: [{ROOT}]")
    cfg.write_text(text)
    r = build(tmp_path / "site", cfg)
    assert r.returncode != 0
    assert "no_such_page.md" in r.stderr


def github_slug(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_readme_is_a_front_door():
    text = (ROOT / "README.md").read_text()
    lines = text.splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines; move detail into docs/"
    for cmd in ("make demo", "make test"):
        assert cmd in text
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]
    assert any(t.endswith(".png") for t in local), "the README shows a picture"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"
    # anchors into the docs, as GitHub names headings (MkDocs names these the same)
    for t in targets:
        page, _, anchor = t.partition("#")
        if anchor and page.endswith(".md") and not re.match(r"[a-z]+:", page):
            slugs = {github_slug(h) for h in re.findall(r"^#+ (.+)$", (ROOT / page).read_text(), re.M)}
            assert anchor in slugs, f"README.md links to {t}, but {page} has no such heading"
    # the README's test command is what CI runs
    assert "exec make test" in (ROOT / ".ci" / "run").read_text()
