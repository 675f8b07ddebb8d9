"""The copy of ftrack's own API test suite is run by ``run_ftrack_suite.py`` with the stock
client in its own virtual environment, never collected by the project's test run (it imports
``ftrack_api``, which the project does not install)."""

collect_ignore = ["third_party", "run_ftrack_suite.py"]
