"""The ``packaging`` marker: tests that build the standalone app with PyInstaller (about a minute)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "packaging: builds the standalone app with PyInstaller and runs it")
