"""Auto-rigging heads that bring no (or too few) blendshapes: landmarks, the lip cut, the
mouth cavity, synthesised shapes and painted irises. The entry point is
:func:`face3d.mesh.autorig.complete.complete_rig`.
"""
