"""``python -m face3d.mesh.default_head [FOLDER]``: regenerate the bundled default head."""

from face3d.mesh.default_head.build import main

raise SystemExit(main())
