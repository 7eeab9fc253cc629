"""The procedural default head: ``python -m face3d.mesh.default_head`` rewrites the bundled model.

The head is built without any data files, from smooth analytic shapes, so it is
deterministic and small:

* the skin is a star-shaped surface seen from a centre inside the head: a spherical grid
  (rows of elevation, columns of azimuth, denser over the face, the lids and under the
  nose) whose rays are projected onto a signed-distance description of cranium, brow, eye
  sockets and lids, nose with carved nostrils, cheeks, lips, chin, jaw and neck; a quad
  much longer one way (a steep wall, like the upper lid's) is split along its shorter
  diagonal, so it does not streak;
* along the lip line the grid is cut: the row of lip-line vertices is duplicated (upper
  and lower lip edges), the edges roll inward and a closed mouth bag (dark, matte) is
  stitched to them, so the opened mouth shows a dark interior, never the background;
* teeth (upper and lower rows), a tongue, two eyeballs (sclera, iris, pupil), two ears,
  short hair (a thin shell whose first row is the hairline) and a collar are separate
  closed sub-meshes;
* the four mouth shapes (``jawOpen``, ``mouthWide``, ``mouthPucker``, ``mouthClose``) and
  the five blink and brow shapes are computed as full target meshes from compactly
  supported displacement fields, so the cranium, hair, eyes, ears and back of the head
  have exactly zero deltas.

Everything is counter-clockwise seen from outside (mouth bag: seen from inside the mouth,
which is outside the solid).  Positions are rounded to 1e-6 so that tiny differences in
libm between machines do not change the saved bytes.

Modules: ``layout`` (positions, colours, helpers), ``sdf`` (the skin's signed distance),
``grid`` (the skin grid and its lip slit), ``mouth_bag``, ``parts`` (eyes, ears, teeth,
tongue, collar), ``hair``, ``colors`` (skin paint), ``blendshapes`` and ``lids`` (shapes),
``build`` (assembly, OBJ, ``main``).
"""

from face3d.mesh.default_head.build import build_default_head, main, write_obj
from face3d.mesh.default_head.grid import grid_angles
from face3d.mesh.default_head.sdf import project, skin_sdf

__all__ = ["build_default_head", "main", "write_obj", "grid_angles", "project", "skin_sdf"]
