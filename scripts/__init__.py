"""The `scim-bridge` command-line tool."""
