"""Qt-free per-user calibration: procedure, profiles, fine-tuning strategies, input monitoring, live-demo assets."""
