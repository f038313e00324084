"""gridmap's outer layer: the FastAPI app and the `gridmap` command line."""
