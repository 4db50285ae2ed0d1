## A customer's rights over their personal data (Law 91/2025): /history, /stop, /offers, /mydata, /delete.
## Every key here must also be in vi/privacy.ftl.

## Points history. In history-line-*, $name is the label of the movement (history-kind-*).

history-title = 🧾 Your recent points:
history-empty = You have no points movements yet.
history-line-in = { $date }  +{ $points } { $points ->
        [one] point
       *[other] points
    } · { $name }
history-line-out = { $date }  −{ $points } { $points ->
        [one] point
       *[other] points
    } · { $name }
history-kind-earn = Purchase
history-kind-spend = Redeemed
history-kind-expire = Expired
history-kind-earn-reversal = Purchase cancelled
history-kind-adjust = Adjusted by the shop
history-kind-referral = Referral bonus
history-kind-gift = Gift
history-kind-other = Other

## Offers

stop-done =
    You won't receive offers from us any more.
    You'll still get a message when you earn points. To receive offers again, send /offers.
stop-already = Offers are already off for you. To receive them again, send /offers.
offers-ask =
    Would you like to receive offers from { $shop } in this chat?
    At most 2 messages a week, only between 8:00 and 21:00. You can stop any time with /stop.
offers-yes = Yes, send me offers
offers-no = No, thanks
offers-done = 🎉 Offers are on. Send /stop any time to stop them.
offers-declined = All right, we won't send you offers.
offers-already = You already receive offers. Send /stop any time to stop them.

## My data

mydata-caption = 📄 Here is everything { $shop } stores about you (a JSON file).

## Deleting my data

delete-ask =
    Do you want to delete your personal data?
    • Your name, phone number, birthday and chat account details will be removed from the program, and your member cards will stop working.
    • Your { $points ->
        [one] { $points } point
       *[other] { $points } points
    } will be lost for good.
    • Your points history is kept anonymously for the shop's accounts.
    To keep a copy of your data, send /mydata first.
delete-yes = Delete my data
delete-no = Keep my data
delete-cancelled = Cancelled. Your data is unchanged.
delete-done = Your personal data has been deleted. Thank you for being a regular at { $shop }! Send /start any time to come back.
