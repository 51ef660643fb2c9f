"""The one exception type the CLI turns into exit status 2: a user's mistake, not a bug."""
from __future__ import annotations


class UserError(Exception):
    """A bad config, preset, value or input file; `problems` holds one line each."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))
