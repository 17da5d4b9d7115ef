"""Qt-free building blocks shared by every layer: clocks, ring buffers, errors, paths."""
