"""The one error that services raise for bad input: field name → messages.

Forms show the messages beside the fields, the API answers 422 with them, the command
line prints them. Raised before anything is written, so bad input changes nothing.
"""


class InvalidInput(Exception):
    def __init__(self, fields: dict[str, list[str]] | None = None, **messages: str):
        self.fields = dict(fields or {})
        for name, message in messages.items():
            self.fields.setdefault(name, []).append(message)
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in self.fields.items()))

    def __str__(self) -> str:
        return self.args[0]
