"""Allow `python -m scripts` as well as the installed `scim-bridge` command."""

from scripts.cli import main

main()
