"""Qt-free per-user calibration: procedure, quality gate, profiles, fine-tuning strategies (the live input monitor
and drift detector are in :mod:`asha_app.inference`)."""
