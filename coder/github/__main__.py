"""`python -m coder.github decide|agent|publish`: the Action's commands, without loading the rest of the CLI."""

import sys

from .cli import main

sys.exit(main())
