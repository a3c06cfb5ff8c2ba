"""Local stand-ins for the services scim-bridge talks to, for tests only."""
