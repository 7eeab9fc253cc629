from face3d.cli import main

raise SystemExit(main())
