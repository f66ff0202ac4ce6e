"""stylebot's application layer: settings, style catalogue, images, weights store, CLI and Serve builder."""
