"""Head meshes: the rig (neutral mesh plus blendshape deltas), loading and rigging."""
