from gridflow.cli import main

raise SystemExit(main())
