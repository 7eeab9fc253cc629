"""The rig: a neutral mesh plus blendshape deltas (:class:`Rig`), the name recipes that map a
file's shapes onto face3d's (ARKit, Oculus, VRM, ICT; see ``names``) and the jaw weights.

``Rig``, ``build_rig``, ``SHAPES``, ``FACE_SHAPES`` and ``vertex_normals`` are re-exported
here: ``from face3d.mesh.rig import Rig``.
"""

from face3d.mesh.rig.rig import FACE_SHAPES, SHAPES, Rig, build_rig, vertex_normals  # noqa: F401
