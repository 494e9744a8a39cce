from closelint.cli import main

raise SystemExit(main())
