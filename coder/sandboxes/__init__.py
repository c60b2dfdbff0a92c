"""Sandboxes: isolated copies of the repo with a warm tool server."""
