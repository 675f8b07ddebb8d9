"""ftrack publisher: publish files, folders and image sequences to ftrack AssetVersions."""

__version__ = "0.1.0"
