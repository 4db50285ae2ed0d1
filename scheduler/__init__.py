"""Jobs that run on the clock: expiry, birthday and win-back offers, reminders and tier nudges.

APScheduler 3 with the in-memory job store: the jobs are defined in code (``scheduler.jobs.JOBS``),
so nothing is lost on a restart, a start-up catch-up runs what the restart missed, and each run
claims its ``(job, slot)`` row first, so two processes sharing a database never run the same slot
twice.
"""
