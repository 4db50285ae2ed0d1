"""Jobs that run on the clock (expiry now; birthdays, re-engagement and the outbox later).

APScheduler 3 with the in-memory job store: the jobs are defined in code, so nothing is lost on a
restart, and each run claims its ``(job, slot)`` row first, so two processes sharing a database
never run the same slot twice.
"""
