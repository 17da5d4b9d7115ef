"""Qt-free device drivers: EMG sources (MindRove boards) and cameras."""
