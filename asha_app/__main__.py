"""``python -m asha_app`` runs the same entry point as the ``asha`` command."""

from asha_app.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
