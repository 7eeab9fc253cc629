"""Head meshes: the rig (neutral mesh plus blendshape deltas), loading and rigging.

Packages, lowest first (each imports only those above it in this list, see
docs/architecture.md): ``geometry`` (a module), ``orient``, ``rig``, ``io``, ``autorig``,
``default_head``; on top ``load`` (the read -> orient -> map -> autorig pipeline) and
``heads`` with the front door :func:`face3d.mesh.heads.load_head`.
"""
