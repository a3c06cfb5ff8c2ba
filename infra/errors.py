"""The root exceptions of scim-bridge, shared by the program and the command-line tool."""


class ScimBridgeError(Exception):
    """A scim-bridge operation failed.

    The command-line tool prints the message (never a traceback) and exits with
    `exit_code`: 1 for a failed operation or check.
    """

    exit_code = 1


class InvalidInput(ScimBridgeError, ValueError):
    """A setting or argument is invalid. Nothing was created, changed or deleted.

    The message names the setting or argument, the value (unless it is secret)
    and what is accepted. The command-line tool exits with code 2.
    """

    exit_code = 2
