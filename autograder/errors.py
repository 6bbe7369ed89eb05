"""Errors a user can cause, reported as one line that names the file and the fix."""

import click


class UserError(click.ClickException):
    """A mistake in the input (a name, a master, a submission): printed without a traceback.

    ``click`` prints ``Error: <message>`` and exits with status 1.
    """
