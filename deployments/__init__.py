"""Ray Serve deployments, each a thin wrapper around the pure torch code in its subpackage."""
