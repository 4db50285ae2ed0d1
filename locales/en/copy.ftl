## Ready-made offer messages (loyalty/copywriter.py): used when no LLM is configured, or when an
## LLM draft gets a fact wrong. Each message joins sentences: an opening for the kind of message,
## the offer by kind of reward, the usual item (if known), the expiry. { $name } receives the
## placeholder "{name}"; the member's name is filled in when the message is sent.
## Only numbers the code passes in: the fact check refuses any other.

copy-open-campaign = 🎉 Hi { $name }! { $shop } has a special offer just for you.
copy-open-birthday = 🎂 Happy birthday, { $name }! { $shop } has a little gift for you.
copy-open-winback = ☕ We miss you, { $name }! It has been a while since your last visit to { $shop }.
copy-offer-percent = Your voucher «{ $title }» takes { $value }% off your bill.
copy-offer-amount = Your voucher «{ $title }» takes { $amount } off your bill.
copy-offer-item = Your voucher «{ $title }» gets you 1 { $item }, on the house.
copy-favourite = Your usual { $favourites } is waiting for you!
copy-until = It is valid until the end of { $date }.
