"""Tortoise ORM models for the whole program, and database set-up (see ``models.db``).

The modules are split by what they hold in the shop's words: members, ledger, staff, audit.
"""
