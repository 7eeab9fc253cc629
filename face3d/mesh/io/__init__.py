"""Reading and writing head files: OBJ, PLY, glTF/GLB, OBJ target sets, face3d's rig folders.

The front door is :func:`face3d.mesh.io.read.read_mesh` (one file -> a validated
:class:`~face3d.mesh.io.raw.RawMesh` in the file's own units and axes). Readers know
formats, not frames: they never import ``orient``, ``autorig`` or ``default_head``.
"""
