## Messages the bot starts: the advertising label (Decree 91/2020) and the owner's queue report.

ad-label = [AD] { $shop }
ad-footer = Don't want offers any more? Send /stop.

outbox-title = 📬 Message queue
outbox-counts = Waiting: { $queued } · Sending: { $sending } · Sent: { $sent } · Failed: { $failed } · Unknown: { $unknown } · Skipped: { $skipped }
outbox-kind = • { $kind }: waiting { $queued }, sent { $sent }, failed { $failed }, unknown { $unknown }, skipped { $skipped }
outbox-next = The next message goes out at { $time } on { $date }.
outbox-problems = Recently not sent:
outbox-problem = • #{ $id } { $kind } ({ $status }): { $reason }
outbox-held = ⚠️ Offers are being held: { $problem }
outbox-empty = No messages queued yet.

command-outbox = Message queue: sent, failed and why
