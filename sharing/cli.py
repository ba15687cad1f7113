"""Command-line administration: `flask --app sharing …`."""

COMMANDS = []
