"""Importers of external data sets into :class:`asha_app.data.recording.Recording`."""
