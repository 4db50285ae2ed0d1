"""Quen's runtime: settings, the `quen` CLI, the HTTP server and the channel adapters.

Only this package knows that Telegram (and later Zalo) exist. Nothing imports it but the entry
point.
"""
