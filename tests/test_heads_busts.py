"""Busts, sculptures and bodies: up and forward come from the face, not from the base, the
hair or the body around it; where the evidence is weak the load line says so and suggests
--up/--forward; a face is never turned upside down without saying so.

Built from the real heads of ../shared/heads (see tests/_busts.py), in all 24 axis
conventions each; skips where ../shared/heads is absent."""

from __future__ import annotations

import numpy as np
import pytest

from _busts import CASES, bust, rotations
from conftest import SHARED_HEADS, run_cli

HEADS = ("derived_LeePerrySmith.obj", "ict_facekit/generic_neutral_mesh.obj", "mediapipe_canonical_face_model.obj")


def _head(name):
    path = SHARED_HEADS / name
    if not path.exists():
        pytest.skip(f"{path} not present (the real heads live in ../shared/heads)")
    from face3d.mesh.io.read import read_mesh
    from face3d.mesh.orient.normalize import detect_frame

    raw = read_mesh(path)
    return detect_frame(raw.positions, raw.faces).apply(raw.positions), raw.faces


def _said(info) -> bool:
    return "--up/--forward" in info.get("note", "")


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("name", HEADS, ids=lambda n: n.split("/")[0].split(".")[0])
def test_bust_orientation_comes_from_the_face(name, case):
    from face3d.mesh.orient.normalize import axis_name, detect_frame

    pos, faces = bust(_head(name), case)
    right, said, wrong = 0, 0, []
    for r in rotations():
        info = detect_frame(pos @ r, faces).info
        want = (axis_name(r[1]), axis_name(r[2]))
        if (info["up"], info["forward"]) == want:
            right += 1
        elif _said(info):
            said += 1
        else:
            wrong.append(f"{want} -> {info['up']}, {info['forward']}")
    assert not wrong, f"{name} + {case}: silently wrong in " + "; ".join(wrong)
    assert right >= 16, f"{name} + {case}: right in only {right} of 24 ({said} said)"


def test_weak_bust_evidence_is_said_in_the_load_line(tmp_path):
    """A bust with hair larger than its face, in an axis convention where its face is not clear enough:
    the CLI's load line says so and suggests --up/--forward; where it is clear, it does not."""
    from face3d.mesh.orient.normalize import axis_name, detect_frame
    from face3d.mesh.io.obj import write_obj

    head = _head("derived_LeePerrySmith.obj")
    pos, faces = bust(head, "big_hair")
    weak = next((r for r in rotations() if _said(detect_frame(pos @ r, faces).info)), None)
    clear_pos, clear_faces = bust(head, "square_plinth")
    clear = None
    for r in rotations():
        info = detect_frame(clear_pos @ r, clear_faces).info
        if (info["up"], info["forward"]) == (axis_name(r[1]), axis_name(r[2])) and not _said(info):
            clear = r
            break
    assert weak is not None and clear is not None
    for (p, f), r, expect in (((pos, faces), weak, True), ((clear_pos, clear_faces), clear, False)):
        path = tmp_path / f"bust_{expect}.obj"
        write_obj(path, p @ r, f)
        res = run_cli("snapshot", "--head", path, "--size", "64x64", "-o", tmp_path / "s.png")
        assert res.returncode == 0, res.stderr
        line = res.stderr.strip().splitlines()[0]
        assert str(path) in line
        assert ("--up/--forward" in line) == expect, line


@pytest.mark.parametrize("case", ["pedestal", "square_plinth", "full_body"])
def test_loaded_bust_is_drawn_upright_for_the_tracker(gl, tracker, tmp_path, case):
    """End to end: a bust written upside down and lying on its back (file +Z up, -Y
    forward) loads the right way up: the tracker finds an upright face in the snapshot."""
    from _judge import read_view
    from face3d.mesh.heads import load_head
    from face3d.mesh.io.obj import write_obj

    pos, faces = bust(_head("derived_LeePerrySmith.obj"), case)
    r = np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]])  # +Y -> +Z, +Z -> -Y
    write_obj(tmp_path / "bust.obj", pos @ r, faces)
    rig = load_head(tmp_path / "bust.obj", autorig=False)
    assert (rig.info["up"], rig.info["forward"]) == ("+z", "-y"), rig.info
    view = read_view(tracker, rig, 0.0, gl, poses={"rest": {}})
    gl.detect_framebuffer(0).use()
    assert view.found and view.upright, (view.score, view.flipped_score)


def test_no_face_at_all_is_said_whatever_its_axes():
    """A faceless egg, flatter on its +x side (so its symmetry plane is not the file's
    x): whichever way it is taken to look, the load line says it is a guess."""
    from _busts import ellipsoid
    from face3d.mesh.orient.normalize import detect_frame

    pos, faces = ellipsoid([0, 0, 0], [0.6, 0.8, 0.7])
    pos[:, 0] = np.where(pos[:, 0] > 0, 0.6 * pos[:, 0], pos[:, 0])
    for r in rotations()[:6]:
        info = detect_frame(pos @ r, faces).info
        assert "--up/--forward" in info.get("note", ""), info
