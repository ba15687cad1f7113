"""The booking engine: availability, conflicts, capacity, recurrence, alternatives, quotas.

No Flask request object inside: the web pages, the JSON API and the command line call it alike.
"""
