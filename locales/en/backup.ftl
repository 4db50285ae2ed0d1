## `quen backup` / `quen restore` (bot/backup.py): what was done, and why nothing was started.

cli-backup-done = backed up to { $file } ({ $bytes ->
        [one] { $bytes } byte
       *[other] { $bytes } bytes
    })
cli-restore-done = restored from { $file }; run quen check, then start the bot

backup-refused-no-database = no database at { $path }
backup-refused-no-file = no backup file at { $path }
backup-refused-not-sqlite = { $path } is not a SQLite database: { $error }
backup-refused-unhealthy = { $path } is not a Quen database in good health ({ $verdict })
backup-refused-holds-a-shop = { $database } already holds a shop: stop the bot and add --force
backup-refused-no-tool = { $tool } is not on PATH (install the PostgreSQL client tools)
backup-refused-tool-failed = { $tool } failed: { $error }
backup-refused-in-memory = an in-memory database cannot be backed up or restored
