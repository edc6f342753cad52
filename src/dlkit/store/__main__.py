"""python -m dlkit.store: the dl-assets command (the build runs it before the library is installed)."""

import sys

from .cli import main

sys.exit(main())
