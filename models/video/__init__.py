"""Motion: reading and writing clips with PyAV (FFmpeg in its wheels), and painting them steadily (one set of
norm statistics for the whole clip)."""
