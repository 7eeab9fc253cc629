"""Full-body characters built from the real heads of ../shared/heads (a scan's head on a
body, with a skeleton; facing +Z or -Z, eyes known or not): framed on the face, read by
dlib's face tracker as the heads alone are (tests/_judge.py). Skips without ../shared or dlib."""

from __future__ import annotations

import numpy as np
import pytest

from _judge import failures, read_view, summary
from _vrm import make_avatar
from conftest import SHARED_HEADS

SHARED = SHARED_HEADS


@pytest.mark.parametrize("name,turned,eyes", [
    ("derived_LeePerrySmith.obj", False, True),           # separate lips, facing +Z, eye joints
    ("mediapipe_canonical_face_model.obj", True, False),  # lips sculpted shut, facing -Z, no eye joints
])
def test_character_from_a_scan_talks_for_the_tracker(tmp_path, ctx, tracker, name, turned, eyes):
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    from face3d.mesh.heads import load_head
    from face3d.mesh.io.read import read_mesh
    from face3d.mesh.orient.normalize import detect_frame

    raw = read_mesh(path)
    head = (detect_frame(raw.positions, raw.faces).apply(raw.positions), raw.faces)
    glb = make_avatar(tmp_path / "character.glb", version=None, head_mesh=head, turned=turned, eyes=eyes)
    rig = load_head(glb)
    assert rig.info["full_body"] and rig.info["forward"] == ("-z" if turned else "+z")
    # framed on its head, the character's face is the head alone's (the torso is below the picture)
    alone = load_head(make_avatar(tmp_path / "alone.glb", version=None, head_mesh=head, body=False, eyes=eyes,
                                  turned=turned))
    n = len(head[0])  # the head's own vertices come first in both (a cut mouth's new ones come last)
    assert np.allclose(rig.positions[:n], alone.positions[:n], atol=1e-4)
    assert rig.names == alone.names and np.allclose(rig.deltas[:, :n], alone.deltas[:, :n], atol=1e-4)
    views = {yaw: read_view(tracker, rig, yaw, ctx) for yaw in (0.0, 30.0)}
    bad = failures(summary(views), rig.info.get("synthesised"))
    assert not bad, bad


@pytest.mark.parametrize("name", ["derived_VALID_Asian_F_1_Casual.glb", "derived_VALID_White_M_1_Casual_vrm0.vrm",
                                  "derived_VALID_White_M_1_Casual_vrm1.vrm"])
def test_shared_avatar_talks_for_the_tracker(ctx, tracker, name):
    """The shared full-body avatars (glTF facing +Z, VRM 0.x facing -Z, VRM 1.0): upright,
    lips together at rest, jawOpen (their own A / aa) opens 0.25 IOD front and at 30
    degrees, mouthWide and mouthPucker change the width, as for the heads."""
    path = SHARED / "avatars" / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    from face3d.mesh.heads import load_head

    rig = load_head(path)
    views = {yaw: read_view(tracker, rig, yaw, ctx) for yaw in (0.0, 30.0)}
    bad = failures(summary(views), rig.info.get("synthesised"))
    assert not bad, bad
