"""The one exception type a user sees as a single line (no traceback)."""


class UserError(Exception):
    """Something the user can fix: a bad option, a missing file, a daemon that is down.

    The message is printed as one line by the CLI, which then exits with code 2.
    """
