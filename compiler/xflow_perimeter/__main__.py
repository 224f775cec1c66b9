import sys

from xflow_perimeter.cli.main import main

sys.exit(main())
