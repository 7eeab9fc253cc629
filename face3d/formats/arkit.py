"""ARKit's 52 blendshapes in the layout of a Live Link Face take CSV.

Header: ``Timecode,BlendShapeCount,`` then the 52 ARKit blendshapes in ARKit's order with
capitalised names (``EyeBlinkLeft`` ... ``TongueOut``), then the head and eye rotations
(``HeadYaw`` ... ``RightEyeRoll``): 63 columns; each row has ``BlendShapeCount`` = 61 values.
Timecodes are ``HH:MM:SS:FF.mmm`` at the export's frame rate (``FF`` the frame within
the second, ``.mmm`` the fraction of a frame), starting at 00:00:00:00.000.

face3d's curves go onto the ARKit shapes they correspond to (:data:`FROM_FACE3D`); any
other column of the track whose name is an ARKit blendshape (``eyeBlinkLeft``,
``browInnerUp``, compared without case) is written to that column. Head and eye angles
(``headYaw``, ``headPitch``, ``headRoll``, ``eyeYaw``, ``eyePitch``: degrees in face3d's
tracks) go to the rotation columns in radians, the eye angles to both eyes. Every other
value is 0. With the fifteen viseme columns in the track (``face3d export`` analyses
with them for this format), :data:`FROM_VISEMES` fills ``MouthFunnel``, ``MouthRollLower``
(f/v), ``MouthShrugUpper``, ``MouthPress*``, ``MouthSmile*`` and ``TongueOut`` (th).
"""

from __future__ import annotations

import numpy as np

from face3d.mesh.rig.visemes import ARKIT_FROM_VISEMES

#: ARKit's blendshapes, in ARKit's (and Live Link Face's) order.
BLENDSHAPES = (
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft", "EyeSquintLeft",
    "EyeWideLeft", "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight", "EyeLookOutRight", "EyeLookUpRight",
    "EyeSquintRight", "EyeWideRight", "JawForward", "JawRight", "JawLeft", "JawOpen", "MouthClose", "MouthFunnel",
    "MouthPucker", "MouthRight", "MouthLeft", "MouthSmileLeft", "MouthSmileRight", "MouthFrownLeft",
    "MouthFrownRight", "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft", "MouthStretchRight",
    "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper", "MouthPressLeft", "MouthPressRight",
    "MouthLowerDownLeft", "MouthLowerDownRight", "MouthUpperUpLeft", "MouthUpperUpRight", "BrowDownLeft",
    "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft", "BrowOuterUpRight", "CheekPuff", "CheekSquintLeft",
    "CheekSquintRight", "NoseSneerLeft", "NoseSneerRight", "TongueOut",
)
ROTATIONS = ("HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
             "RightEyeYaw", "RightEyePitch", "RightEyeRoll")
COLUMNS = BLENDSHAPES + ROTATIONS

#: ARKit shape <- {face3d curve: factor}: the jaw, the lips' closure, rounding (pucker, and
#: a funnel for half of it) and width (mostly stretch, a little smile).
FROM_FACE3D = {
    "JawOpen": {"jawOpen": 1.0},
    "MouthClose": {"mouthClose": 1.0},
    "MouthPucker": {"mouthPucker": 1.0},
    "MouthFunnel": {"mouthPucker": 0.5},
    "MouthStretchLeft": {"mouthWide": 0.7},
    "MouthStretchRight": {"mouthWide": 0.7},
    "MouthSmileLeft": {"mouthWide": 0.3},
    "MouthSmileRight": {"mouthWide": 0.3},
}
#: ARKit shape <- {viseme column: factor}, added when the track has the fifteen visemes:
#: the one table the renderer's ARKit heads use too (its phonetics are noted there).
FROM_VISEMES = {k[0].upper() + k[1:]: v for k, v in ARKIT_FROM_VISEMES.items()}
#: rotation column <- face3d's angle column (degrees)
ANGLES = {"HeadYaw": "headYaw", "HeadPitch": "headPitch", "HeadRoll": "headRoll",
          "LeftEyeYaw": "eyeYaw", "RightEyeYaw": "eyeYaw", "LeftEyePitch": "eyePitch", "RightEyePitch": "eyePitch"}


def arkit_values(track) -> np.ndarray:
    """(T, 61) values in :data:`COLUMNS` order for the track's frames."""
    return arkit_matrix(track.names, track.values)


def arkit_matrix(names, values) -> np.ndarray:
    """(T, 61) values in :data:`COLUMNS` order from (T, K) ``values`` of shapes ``names``."""
    values = np.asarray(values, np.float64).reshape(-1, len(names))
    out = np.zeros((values.shape[0], len(COLUMNS)), np.float64)
    names = list(names)
    lower = {n.lower(): i for i, n in enumerate(names)}
    for j, name in enumerate(COLUMNS):
        if name in ANGLES:
            if ANGLES[name] in names:
                out[:, j] = np.radians(values[:, names.index(ANGLES[name])])
            continue
        if name.lower() in lower:              # a column of the same name (living-face curves)
            out[:, j] = values[:, lower[name.lower()]]
            continue
        for src, k in FROM_FACE3D.get(name, {}).items():
            if src in names:
                out[:, j] += k * values[:, names.index(src)]
        if "viseme_sil" in names:
            if name == "MouthFunnel":   # from the visemes instead of half the pucker
                out[:, j] = 0.0
            for src, k in FROM_VISEMES.get(name, {}).items():
                out[:, j] += k * values[:, names.index(src)]
    out[:, : len(BLENDSHAPES)] = np.clip(out[:, : len(BLENDSHAPES)], 0.0, 1.0)
    return out


def timecode(frame: int, fps: float) -> str:
    """``HH:MM:SS:FF.mmm`` of frame ``frame`` at ``fps`` frames per second."""
    t = frame / fps
    sec = int(np.floor(t + 1e-9))
    sub = (t - sec) * fps                      # frames into this second, with the fraction
    ff = int(np.floor(sub + 1e-6))
    mmm = int(round((sub - ff) * 1000)) % 1000
    return f"{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}:{ff:02d}.{mmm:03d}"


def write(track, stream, info, variant: str = "arkit-csv") -> None:
    from face3d.formats import frames

    tr = frames(track, info)
    vals = arkit_values(tr)
    stream.write(",".join(("Timecode", "BlendShapeCount") + COLUMNS) + "\n")
    count = str(len(COLUMNS))
    for i in range(len(tr)):
        row = np.char.mod("%.6g", np.round(vals[i], 6) + 0.0).tolist()
        stream.write(",".join([timecode(i, info.fps), count, *row]) + "\n")
