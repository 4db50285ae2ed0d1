"""What the bot says and does: channel-neutral conversations.

Handlers take an ``Incoming`` and return ``Reply`` objects. They never import a chat library, never
talk SQL (``loyalty`` does) and never hold a sentence outside ``locales``.
"""
