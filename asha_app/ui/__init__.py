"""Qt widgets and vispy views. The only layer that imports QtWidgets or vispy."""
