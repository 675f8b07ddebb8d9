"""Entry point of the frozen app (PyInstaller): the same CLI as ``python -m publisher``.

In the built app ``sys.executable`` is the app itself, so the embedded server is started as
``<app> server ...`` (see ``publisher.embedded.server_command``), which this entry handles like
any other subcommand; ``<app> --self-test`` checks the build end to end.
"""

import multiprocessing
import sys

from publisher.cli import main
from publisher.hosts.environment import clean_own_environment

if __name__ == "__main__":
    multiprocessing.freeze_support()
    # What we start (a player, a DCC) must not inherit the paths into our bundled Qt.
    clean_own_environment()
    sys.exit(main())
