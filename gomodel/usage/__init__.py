"""Request records and token usage: where they go after a request ends."""
