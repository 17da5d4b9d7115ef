"""Session files (HDF5), the in-memory :class:`~asha_app.data.recording.Recording`, importers and exporters."""
