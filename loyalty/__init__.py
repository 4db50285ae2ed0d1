"""The program's rules: points, tiers, members and their cards. No chat app is known here."""
