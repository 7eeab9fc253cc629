"""Dependency direction: pure modules never pull in GL, windows or sound devices."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("moderngl", "moderngl_window", "sounddevice", "pyglet", "imgui_bundle")


def _loaded_after(code: str) -> set[str]:
    res = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
        capture_output=True, text=True, timeout=60,
    )
    assert res.returncode == 0, res.stderr
    return set(res.stdout.split())


@pytest.mark.parametrize(
    "code",
    [
        "import face3d",
        "import face3d.cli as c; c.build_parser()",
        "import face3d.mesh.rig",
    ],
)
def test_light_imports(code):
    loaded = _loaded_after(code)
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_renderer_does_not_import_audio():
    loaded = _loaded_after("import face3d.render.renderer, face3d.render.offscreen")
    assert "sounddevice" not in loaded
    assert not any(m.startswith(("face3d.audio", "face3d.analysis")) for m in loaded)
