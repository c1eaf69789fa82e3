"""``python -m scoring classify [FILE]``."""

from scoring.cli import main

raise SystemExit(main())
