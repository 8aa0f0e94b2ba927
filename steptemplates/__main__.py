import sys

from steptemplates.cli import main

sys.exit(main())
