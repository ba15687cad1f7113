"""Plumbing every layer uses: configuration, the database, extensions, errors,
languages, mail and input validation."""
